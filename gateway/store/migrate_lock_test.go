package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/pressly/goose/v3/lock"

	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestMigrationLockIsTheSchemas: migrations hold an advisory lock of their
// schema, not one for the whole database, so a migration in one schema
// does not wait for another schema's (other deployments sharing the
// database, or parallel tests, each in a schema of their own). Here the
// database-wide lock goose would take is held the whole time, and the
// migration of a fresh schema still completes.
func TestMigrationLockIsTheSchemas(t *testing.T) {
	if a, b := store.MigrationLockID("t_a"), store.MigrationLockID("t_b"); a == b || a != store.MigrationLockID("t_a") {
		t.Fatalf("lock ids: t_a %d, t_b %d, t_a again %d; want one per schema, stable", a, b, store.MigrationLockID("t_a"))
	}
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	other, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lock.DefaultLockID); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", lock.DefaultLockID); err != nil {
			t.Error(err)
		}
	}()

	s, err := store.Open(ctx, url, storetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan error, 1)
	go func() {
		_, err := s.Migrate(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second): // a hang guard: the lock is never released before this
		t.Fatal("the migration waited on a lock another schema's migration would hold")
	}
}

// TestMigrationsOfOneSchemaTakeTurns: replicas starting together on one
// schema still share its lock: three migrate at once, all succeed, and
// every migration is applied once.
func TestMigrationsOfOneSchemaTakeTurns(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	done := make(chan int, 3)
	errs := make(chan error, 3)
	for range 3 {
		s, err := store.Open(ctx, url, storetest.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		go func() {
			n, err := s.Migrate(ctx)
			errs <- err
			done <- n
		}()
	}
	applied := 0
	for range 3 {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatalf("a concurrent migration failed: %v", err)
			}
			applied += <-done
		case <-time.After(5 * time.Minute): // hang guard: turns wait 5 s each
			t.Fatal("concurrent migrations did not finish")
		}
	}
	s, err := store.Open(ctx, url, storetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	states, err := s.Migrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(states) {
		t.Errorf("the three migrations applied %d in all, want each of the %d once", applied, len(states))
	}
	for _, m := range states {
		if !m.Applied {
			t.Errorf("migration %d %s not applied", m.Version, m.Name)
		}
	}
}
