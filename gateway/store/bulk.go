package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Multi-row statements. A query block marked "bulk" is written for one
// row; bulk repeats its VALUES tuple, or its IN (?) list, once per row, so
// that one round trip writes or reads many rows on both dialects.

// maxBulkRows bounds the rows of one multi-row statement: 500 alerts of 17
// columns stay far below SQLite's 32766 and PostgreSQL's 65535 parameters.
const maxBulkRows = 500

// bulk returns q with its one VALUES tuple, or its one IN (?) list,
// repeated n times, rebound for the dialect.
func (s *Store) bulk(q string, n int) string {
	if n > maxCachedBulk {
		return s.db.Rebind(expandBulk(unbind(q), n))
	}
	key := bulkKey{s.dialect, q, n}
	if v, ok := bulkStatements.Load(key); ok {
		return v.(string)
	}
	out := s.db.Rebind(expandBulk(unbind(q), n))
	bulkStatements.Store(key, out)
	return out
}

// bulkStatements caches expanded statements (bulkKey → string), only for
// common sizes so that it stays small. Building one costs microseconds;
// the cache is for reusing one text per size, which PostgreSQL's driver
// then keeps prepared per connection.
var bulkStatements sync.Map

const maxCachedBulk = 128

type bulkKey struct {
	d Dialect
	q string
	n int
}

// expandBulk repeats the tuple after VALUES, or the (?) after IN, n times.
func expandBulk(q string, n int) string {
	if i := strings.Index(q, "IN (?)"); i >= 0 {
		list := strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
		return q[:i] + "IN (" + list + ")" + q[i+len("IN (?)"):]
	}
	i := strings.Index(q, "VALUES (")
	if i < 0 {
		panic("store: bulk statement without VALUES or IN (?): " + q)
	}
	start := i + len("VALUES ")
	depth, end := 0, -1
	for j := start; j < len(q) && end < 0; j++ {
		switch q[j] {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				end = j + 1
			}
		}
	}
	tuple := q[start:end]
	var b strings.Builder
	b.Grow(len(q) + (len(tuple)+2)*n)
	b.WriteString(q[:start])
	for k := range n {
		if k > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	b.WriteString(q[end:])
	return b.String()
}

// unbind turns PostgreSQL's numbered placeholders back into ?, so that a
// loaded (already rebound) statement can be expanded and rebound again.
func unbind(q string) string {
	if !strings.Contains(q, "$") {
		return q
	}
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if q[i] == '$' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9' {
			b.WriteByte('?')
			for i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9' {
				i++
			}
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func anySlice[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// stmtCache holds statements prepared on SQLite, by pool and text. Its
// driver parses every statement it is given as text anew, and parsing a
// multi-row insert costs about as much as running it; PostgreSQL's driver
// caches prepared statements by itself. The zero value is ready.
type stmtCache struct {
	mu sync.Mutex
	m  map[stmtKey]*sqlx.Stmt
}

type stmtKey struct {
	writer bool
	text   string
}

// maxPrepared bounds stmtCache: each entry is a compiled program held by
// the connections that ran it.
const maxPrepared = 96

// prepared returns text prepared on the writer (writer) or the read pool,
// preparing it first if prepare allows; nil off SQLite, when the cache is
// full, or when preparing fails (the caller runs the text, where a real
// error shows). The writer must not prepare inside a write transaction,
// which holds its one connection.
func (s *Store) prepared(ctx context.Context, writer bool, text string, prepare bool) *sqlx.Stmt {
	if s.dialect != SQLite {
		return nil
	}
	c, key := &s.q.prepared, stmtKey{writer, text}
	c.mu.Lock()
	st, ok := c.m[key]
	full := len(c.m) >= maxPrepared
	c.mu.Unlock()
	if ok || !prepare || full {
		return st
	}
	// Not under c.mu: preparing on the writer waits for the transaction
	// that holds it, which may itself be waiting to look a statement up.
	db := s.db
	if writer {
		db = s.wdb
	}
	st, err := db.PreparexContext(ctx, text)
	if err != nil {
		s.log.Debug("prepare statement", "err", err)
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[key]; ok { // prepared meanwhile by another request
		_ = st.Close()
		return prev
	}
	if c.m == nil {
		c.m = map[stmtKey]*sqlx.Stmt{}
	}
	c.m[key] = st
	return st
}

// prepareWrites prepares, outside any transaction, the writer's bulk
// statements qs for n rows.
func (s *Store) prepareWrites(ctx context.Context, n int, qs ...string) {
	if n < 1 || n > maxCachedBulk {
		return
	}
	for _, q := range qs {
		s.prepared(ctx, true, s.bulk(q, n), true)
	}
}

// bulkStmt runs one statement in a write transaction.
type bulkStmt struct {
	tx   *sqlx.Tx
	stmt *sqlx.Stmt // nil: run text
	text string
}

// bulkOn returns bulk statement q for n rows in tx (see stmtOn).
func (s *Store) bulkOn(ctx context.Context, tx *sqlx.Tx, q string, n int) bulkStmt {
	if n > maxCachedBulk {
		return bulkStmt{tx: tx, text: s.bulk(q, n)}
	}
	return s.stmtOn(ctx, tx, s.bulk(q, n))
}

// stmtOn returns text in tx, as the writer's prepared statement when it
// has been prepared.
func (s *Store) stmtOn(ctx context.Context, tx *sqlx.Tx, text string) bulkStmt {
	b := bulkStmt{tx: tx, text: text}
	if st := s.prepared(ctx, true, text, false); st != nil {
		b.stmt = tx.StmtxContext(ctx, st) // reuses the writer connection's statement
	}
	return b
}

func (b bulkStmt) exec(ctx context.Context, args ...any) (sql.Result, error) {
	if b.stmt != nil {
		return b.stmt.ExecContext(ctx, args...)
	}
	return b.tx.ExecContext(ctx, b.text, args...)
}

func (b bulkStmt) query(ctx context.Context, args ...any) (*sql.Rows, error) {
	if b.stmt != nil {
		return b.stmt.QueryContext(ctx, args...)
	}
	return b.tx.QueryContext(ctx, b.text, args...)
}

func (b bulkStmt) selectInto(ctx context.Context, dest any, args ...any) error {
	if b.stmt != nil {
		return b.stmt.SelectContext(ctx, dest, args...)
	}
	return b.tx.SelectContext(ctx, dest, b.text, args...)
}
