// Package store is the only place in Herald with SQL. It keeps every
// aggregate in SQLite (the zero-configuration default) or PostgreSQL
// (production and several replicas) behind one API, runs the embedded
// migrations, and maps database errors onto gateway error codes.
//
// Queries live in queries/*.sql as named blocks (see queries.go); the few
// that differ between dialects are overridden in queries/<dialect>/*.sql.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/jmoiron/sqlx/reflectx"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	// The SQLite database/sql driver; PostgreSQL's is opened through stdlib.
	_ "modernc.org/sqlite"
)

// Dialect names a supported database.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is Herald's database. It is safe for concurrent use.
type Store struct {
	// db serves reads and, on PostgreSQL, writes too. On SQLite, writes go
	// through wdb, a pool of one connection: SQLite has a single writer, and
	// queueing writers in Go is cheaper and fairer than busy-waiting on locks.
	db      *sqlx.DB
	wdb     *sqlx.DB
	dialect Dialect
	q       *queries
	log     *slog.Logger
	box     atomic.Pointer[boxed] // seals and opens webhook secrets; see SetSecretBox
	// sources keeps SourceByName's answers (see sources_cache.go).
	sources sourceCache
	// writes counts the writes this process committed (see Writes).
	writes atomic.Uint64
	// checkpoints copies SQLite's log into the database file, off the
	// writer (see checkpoint.go); nil on PostgreSQL.
	checkpoints *checkpointer
	// planPart, when positive, replaces the const planPart (tests).
	planPart int
	// planning holds a *sync.Mutex per event being planned (planningLock).
	planning sync.Map
	// Now is the store's clock, replaceable in tests; times are stored in UTC
	// at microsecond precision (PostgreSQL's), so what is read equals what
	// was written.
	Now func() time.Time
}

// ParseURL splits a HERALD_DATABASE_URL into a dialect and a driver DSN:
// `sqlite:PATH` (or `sqlite://PATH`, `file:PATH`) and `postgres://…`
// (or `postgresql://…`).
func ParseURL(raw string) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return Postgres, raw, nil
	case strings.HasPrefix(raw, "sqlite:"), strings.HasPrefix(raw, "file:"):
		path := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "file:")
		path = strings.TrimPrefix(path, "//")
		query := ""
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path, query = path[:i], path[i+1:]
		}
		if path == "" {
			return "", "", errors.New("database URL: sqlite: needs a path, e.g. sqlite:herald.db")
		}
		return SQLite, sqliteDSN(path, query), nil
	}
	return "", "", fmt.Errorf("database URL %q: want sqlite:PATH or postgres://…", redact(raw))
}

// sqliteDSN turns a path into a modernc.org/sqlite DSN with the settings
// Herald relies on: WAL (readers never block the writer), a busy timeout
// (writers from several processes wait instead of failing), foreign keys
// (off by default in SQLite), IMMEDIATE transactions (a transaction that
// will write takes the lock at BEGIN, so it never fails mid-way on an
// upgrade) and a sortable time format.
//
// synchronous is FULL: in WAL mode NORMAL does not sync the log at commit,
// so a power loss or a kernel crash could take back transactions Herald
// already answered 202 for, or deliveries it recorded as sent, and send
// them again. A request is acknowledged only once its rows are on disk;
// group commit (see gateway/ingest) shares one sync among the requests
// that arrive together.
//
// Temporary storage is kept in memory: a multi-statement write
// transaction (ingest's group commit, the reconcile pass's parts) writes a
// statement journal for every statement that may need undoing alone, and
// on disk each one is a temporary file opened, written and deleted. In
// memory a storm of new routed alerts ran 4–10 % faster, alternating runs
// of the same load; the journals are as small as the statements, and the
// million-subscriber fan-out's peak memory stayed where it was (see
// README.md's "Measured performance").
func sqliteDSN(path, query string) string {
	v, _ := url.ParseQuery(query)
	v.Add("_pragma", "busy_timeout(10000)")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "foreign_keys(1)")
	v.Add("_pragma", "synchronous(FULL)")
	v.Add("_pragma", "temp_store(MEMORY)")
	v.Add("_pragma", "wal_autocheckpoint(0)") // the store checkpoints (checkpoint.go)
	v.Set("_txlock", "immediate")
	v.Set("_time_format", "sqlite")
	// The DSN is a URI to SQLite: a '#' in the path would start a fragment
	// and cut the file name short (two databases in one file), a '%' would
	// start an escape.
	return "file:" + uriPath.Replace(path) + "?" + v.Encode()
}

var uriPath = strings.NewReplacer("%", "%25", "#", "%23")

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

// Open connects to the database named by rawURL and checks that it answers.
// It does not migrate; call Migrate, then Prepare. An unreachable database
// is an error here: callers that must not depend on start-up order retry
// (see Connect).
func Open(ctx context.Context, rawURL string, log *slog.Logger) (*Store, error) {
	dialect, dsn, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if dialect == SQLite {
		registerSQLiteFunctions()
	}
	driver := map[Dialect]string{SQLite: "sqlite", Postgres: "pgx"}[dialect]
	var db *sqlx.DB
	if dialect == Postgres {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("store: open %s: %w", dialect, err)
		}
		db = sqlx.NewDb(stdlib.OpenDB(*cfg, stdlib.OptionShouldPing(shouldPing)), driver)
	} else if db, err = sqlx.Open(driver, dsn); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dialect, err)
	}
	db.Mapper = reflectx.NewMapperFunc("db", snakeCase)
	s := &Store{db: db, wdb: db, dialect: dialect, log: log, Now: time.Now}
	if dialect == SQLite {
		db.SetMaxOpenConns(8)
		w, err := sqlx.Open(driver, dsn)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("store: open sqlite writer: %w", err)
		}
		w.Mapper = db.Mapper
		w.SetMaxOpenConns(1)
		w.SetConnMaxIdleTime(0)
		s.wdb = w
	} else {
		// As many idle connections as open ones: with fewer, every burst
		// above the idle count closes and reopens connections (measured:
		// p50 201 ms instead of 2.5 ms at 1,000 single-alert requests/s).
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(32)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// The writer first: on a new SQLite file it is the one that switches the
	// journal to WAL, which needs the write lock.
	if err := s.wdb.PingContext(pctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", dialect, err)
	}
	if err := s.db.PingContext(pctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", dialect, err)
	}
	if dialect == SQLite {
		s.startCheckpoints()
	}
	return s, nil
}

// Dialect reports which database the store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB returns the read pool, for health checks and tests.
func (s *Store) DB() *sql.DB { return s.db.DB }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	err := s.db.PingContext(ctx)
	if err == nil {
		var one int
		err = s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	}
	if err != nil && ctx.Err() == nil {
		noteLost()
	}
	return err
}

// lostAt is when this process last saw the database go away (Unix
// nanoseconds). The connections idle in a pool since before then may be
// dead sockets that a restarted PostgreSQL or a cut network left behind;
// database/sql would hand each to a request that then fails. shouldPing
// makes the pool check those once, on reuse, and drop the dead ones, so the
// first requests after an outage get fresh connections instead of 503s.
var lostAt atomic.Int64

func noteLost() { lostAt.Store(time.Now().UnixNano()) }

// shouldPing is pgx's test before it reuses a pooled connection: its
// default (idle longer than a second), or last used before the database was
// last seen to go away.
func shouldPing(_ context.Context, p stdlib.ShouldPingParams) bool {
	lastUsed := time.Now().Add(-p.IdleDuration).UnixNano()
	return p.IdleDuration > time.Second || lastUsed <= lostAt.Load()
}

// Close releases the connections.
func (s *Store) Close() error {
	s.stopCheckpoints()
	err := s.db.Close()
	if s.wdb != s.db {
		err = errors.Join(err, s.wdb.Close())
	}
	return err
}

// now returns the store clock's time in the stored form.
func (s *Store) now() time.Time { return storedTime(s.Now()) }

// storedTime normalizes a time to what the database keeps: UTC, microseconds.
func storedTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// tx runs fn in a write transaction, committing when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.wdb.BeginTxx(ctx, nil)
	if err != nil {
		return mapError(fmt.Errorf("store: begin: %w", err))
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	err = tx.Commit()
	// Counted committed or not: a failed commit may still have committed
	// (a lost connection), and a needless re-read costs one query.
	s.noteWrite()
	if err != nil {
		return mapError(fmt.Errorf("store: commit: %w", err))
	}
	return nil
}

// Writes counts the write transactions (and the writes to what public
// pages show outside a transaction) this Store has committed. A reader
// that cached something read after the count was n knows, while Writes
// still returns n, that no write of this process changed it since; writes
// of other processes it does not see (see gateway/web's version cache).
func (s *Store) Writes() uint64 { return s.writes.Load() }

func (s *Store) noteWrite() { s.writes.Add(1) }

// snakeCase maps Go field names onto column names (GroupID → group_id,
// StatusChangedAt → status_changed_at), so domain types scan without tags.
func snakeCase(name string) string {
	var b strings.Builder
	runes := []rune(name)
	for i, r := range runes {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 {
			prevLower := runes[i-1] >= 'a' && runes[i-1] <= 'z'
			nextLower := i+1 < len(runes) && runes[i+1] >= 'a' && runes[i+1] <= 'z'
			if prevLower || nextLower && runes[i-1] >= 'A' && runes[i-1] <= 'Z' {
				b.WriteByte('_')
			}
		}
		if upper {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
