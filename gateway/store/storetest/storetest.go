// Package storetest gives tests fresh, migrated Herald databases: a SQLite
// file in a temporary directory and, when PostgreSQL is reachable, a schema
// of its own in the test database, so that every store test runs on both
// and no two tests see each other's rows.
//
// PostgreSQL is found at HERALD_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). Where it is not
// reachable the PostgreSQL half is skipped with a message, unless
// HERALD_TEST_REQUIRE_POSTGRES is set (CI sets it), which makes it a failure.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// DefaultPostgresURL is used when HERALD_TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Database is a fresh, empty (unmigrated) database for one test.
type Database struct {
	Name string // "sqlite" or "postgres"
	URL  string // a HERALD_DATABASE_URL for it
}

// SQLiteURL returns the URL of a new SQLite file in a temporary directory.
func SQLiteURL(tb testing.TB) string {
	tb.Helper()
	return "sqlite:" + filepath.Join(tb.TempDir(), "herald.db")
}

// PostgresURL returns the URL of a new, empty schema in the test PostgreSQL
// database, dropped when the test ends, or skips (or fails, see the package
// comment) when PostgreSQL is not reachable.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("HERALD_TEST_DATABASE_URL")
	if base == "" {
		base = DefaultPostgresURL
	}
	admin, err := sql.Open("pgx", base)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable at %s (set HERALD_TEST_DATABASE_URL): %v", base, err)
		if os.Getenv("HERALD_TEST_REQUIRE_POSTGRES") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	schema := "t_" + gateway.NewID()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			tb.Logf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Databases returns a fresh database of each dialect; the PostgreSQL one is
// created lazily by its subtest (see Run), so a skip stays local to it.
func Databases() []string { return []string{"sqlite", "postgres"} }

// URL returns a fresh database URL of the named dialect.
func URL(tb testing.TB, dialect string) string {
	tb.Helper()
	if dialect == "postgres" {
		return PostgresURL(tb)
	}
	return SQLiteURL(tb)
}

// Open returns a migrated, prepared store on a fresh database of dialect,
// closed when the test ends.
func Open(tb testing.TB, dialect string) *store.Store {
	tb.Helper()
	return OpenURL(tb, URL(tb, dialect))
}

// OpenURL returns a migrated, prepared store on the database at url,
// closed when the test ends. Opening one url twice gives two stores over
// one database, as two herald processes (replicas) have.
func OpenURL(tb testing.TB, url string) *store.Store {
	tb.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, url, Logger(tb))
	if err != nil {
		tb.Fatalf("open %s: %v", url, err)
	}
	tb.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		tb.Fatalf("migrate %s: %v", url, err)
	}
	if err := s.Prepare(ctx); err != nil {
		tb.Fatalf("prepare %s: %v", url, err)
	}
	return s
}

// Run runs fn as a subtest on each dialect with its own fresh store.
func Run(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, d := range Databases() {
		t.Run(d, func(t *testing.T) { fn(t, Open(t, d)) })
	}
}

// Logger returns a logger for code under test: silent, unless
// HERALD_TEST_LOG is set, when it writes to stderr at debug level. (Not
// t.Log: background goroutines may log after the test has ended.)
func Logger(tb testing.TB) *slog.Logger {
	if os.Getenv("HERALD_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", tb.Name())
}
