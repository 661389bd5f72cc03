package store_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestChannelChecksDropped: migration 15 drops the CHECKs that limited
// subscribers.kind and deliveries.channel to email and webhook, so a
// channel added in Go needs no migration. Rows written before it stay,
// every index and trigger stays as it was, the other CHECKs still hold,
// and a connection that had read the old schema (another replica, another
// connection of the pool) takes a new kind too.
func TestChannelChecksDropped(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			url := storetest.URL(t, d)
			s, err := store.Open(ctx, url, storetest.Logger(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if err := store.MigrateTo(ctx, s, 14); err != nil {
				t.Fatal(err)
			}
			exec := func(q string, args ...any) error {
				_, err := s.DB().ExecContext(ctx, storetest.Rebind(s, q), args...)
				return err
			}
			now := "2026-01-01 00:00:00+00:00"
			addSub := `INSERT INTO subscribers (id, kind, address, token_nonce, created_at, updated_at) VALUES (?, ?, ?, 'n', ?, ?)`
			addDelivery := `INSERT INTO deliveries (event_id, subscriber_id, channel, status, next_attempt_at, created_at, updated_at) VALUES ('e1', ?, ?, ?, ?, ?, ?)`
			must(t, exec(addSub, "s1", "email", "a@example.com", now, now))
			must(t, exec(`INSERT INTO events (id, type, actor, created_at) VALUES ('e1', 'broadcast', 'test', ?)`, now))
			must(t, exec(addDelivery, "s1", "email", "queued", now, now, now))
			if exec(addSub, "s2", "pager", "pager:1", now, now) == nil {
				t.Fatal("before migration 15, a subscriber of kind pager was accepted: the test does not test the migration")
			}

			// Another store over the database (not migrating), which has
			// read the tables.
			other, err := store.Open(ctx, url, storetest.Logger(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { other.Close() })
			if n := storetest.MustCount(t, other, `SELECT COUNT(*) FROM deliveries`); n != 1 {
				t.Fatalf("deliveries = %d, want 1", n)
			}

			before := schemaOf(t, s)
			if err := store.MigrateTo(ctx, s, 15); err != nil {
				t.Fatal(err)
			}
			after := schemaOf(t, s)
			if !slices.Equal(before.indexes, after.indexes) {
				t.Errorf("indexes and triggers changed:\nbefore %q\nafter  %q", before.indexes, after.indexes)
			}
			for i, want := range []string{"subscribers_kind_check", "deliveries_channel_check"} {
				if d == "postgres" && !slices.Contains(before.checks, want) {
					t.Errorf("before migration 15 there is no constraint %s (checks %q): the migration drops the wrong name", want, before.checks)
				}
				if slices.Contains(after.checks, want) {
					t.Errorf("after migration 15, constraint %s is still there", want)
				}
				if d == "sqlite" {
					gone := []string{"CHECK (kind IN", "CHECK (channel IN"}[i]
					if !strings.Contains(before.tables[i], gone) || strings.Contains(after.tables[i], gone) {
						t.Errorf("table %d: before %q\nafter %q", i, before.tables[i], after.tables[i])
					}
				}
			}

			for _, st := range []*store.Store{s, other} {
				id := "s-pager"
				if st == other {
					id += "-other"
				}
				_, err := st.DB().ExecContext(ctx, storetest.Rebind(st, addSub), id, "pager", "pager:"+id, now, now)
				must(t, err)
				_, err = st.DB().ExecContext(ctx, storetest.Rebind(st, addDelivery), id, "pager", "queued", now, now, now)
				must(t, err)
			}
			if exec(addDelivery, "s1", "webhook", "bogus", now, now, now) == nil {
				t.Error("a delivery of status bogus was accepted: the status CHECK is gone too")
			}
			if n := storetest.MustCount(t, s, `SELECT COUNT(*) FROM deliveries WHERE subscriber_id = 's1' AND channel = 'email'`); n != 1 {
				t.Errorf("the delivery written before the migration: %d rows, want 1", n)
			}
			if d == "sqlite" {
				var ok string
				if err := s.DB().QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
					t.Errorf("integrity_check = %q, %v", ok, err)
				}
			}
			// The store's own queries run over the new schema.
			if err := s.Prepare(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

type schemaSnapshot struct {
	indexes []string // every index and trigger, as the database describes it
	tables  []string // SQLite: the text of subscribers and deliveries
	checks  []string // PostgreSQL: the CHECK constraints of both tables
}

func schemaOf(t *testing.T, s *store.Store) schemaSnapshot {
	t.Helper()
	var snap schemaSnapshot
	strs := func(q string) []string {
		rows, err := s.DB().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var v sql.NullString
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v.String)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if s.Dialect() == store.Postgres {
		snap.indexes = strs(`SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname`)
		snap.indexes = append(snap.indexes, strs(`SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
			WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal ORDER BY tgname`)...)
		snap.checks = strs(`SELECT conname FROM pg_constraint WHERE contype = 'c'
			AND conrelid IN ('subscribers'::regclass, 'deliveries'::regclass) ORDER BY conname`)
		return snap
	}
	snap.indexes = strs(`SELECT type || ' ' || name || ' ' || tbl_name || ' ' || COALESCE(sql, '') FROM sqlite_schema
		WHERE type IN ('index', 'trigger') ORDER BY name`)
	snap.tables = strs(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name IN ('subscribers', 'deliveries')
		ORDER BY CASE name WHEN 'subscribers' THEN 0 ELSE 1 END`)
	return snap
}
