package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in      string
		dialect store.Dialect
		dsnHas  string
		wantErr bool
	}{
		{"sqlite:herald.db", store.SQLite, "file:herald.db?", false},
		{"sqlite:///var/lib/herald/h.db", store.SQLite, "file:/var/lib/herald/h.db?", false},
		{"sqlite:h.db?cache=shared", store.SQLite, "cache=shared", false},
		{"postgres://u:p@db:5432/herald", store.Postgres, "postgres://u:p@db:5432/herald", false},
		{"postgresql://db/herald", store.Postgres, "postgresql://db/herald", false},
		{"mysql://db/herald", "", "", true},
		{"sqlite:", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, dsn, err := store.ParseURL(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseURL(%q) err = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if d != tt.dialect || !strings.Contains(dsn, tt.dsnHas) {
				t.Errorf("ParseURL(%q) = %q, %q; want %q and a DSN with %q", tt.in, d, dsn, tt.dialect, tt.dsnHas)
			}
		})
	}
}

// A path with '#' or '%' (a subtest named "#00" gets one) opens that very
// file, not one cut short at the '#'.
func TestSQLitePathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a#1%20b")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "herald.db")
	st, err := store.Open(context.Background(), "sqlite:"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at %s: %v", path, err)
	}
}

func TestSQLiteSettings(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	for pragma, want := range map[string]string{
		"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000",
		"synchronous": "2", // FULL: a commit is on disk before Herald answers
		"temp_store":  "2", // MEMORY
	} {
		var got string
		if err := s.DB().QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
}

func TestMigrationsAndReady(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.Ready(ctx); err != nil {
			t.Fatalf("Ready after migrate: %v", err)
		}
		ms, err := s.Migrations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 || !ms[0].Applied || ms[0].Version != 1 {
			t.Errorf("Migrations() = %+v, want version 1 applied", ms)
		}
		n, err := s.Migrate(ctx)
		if err != nil || n != 0 {
			t.Errorf("second Migrate() = %d, %v; want 0, nil", n, err)
		}
		// Every table of the domain exists.
		for _, table := range []string{"components", "component_groups", "sources", "rules", "alerts", "incidents",
			"incident_updates", "incident_components", "maintenances", "subscribers", "subscriptions", "events",
			"deliveries", "delivery_attempts", "api_keys", "audit_log", "timers", "suppressions", "users", "sessions"} {
			if _, err := s.DB().ExecContext(ctx, "SELECT COUNT(*) FROM "+table); err != nil {
				t.Errorf("table %s: %v", table, err)
			}
		}
	})
}

func TestReadyBeforeMigrate(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			s, err := store.Open(context.Background(), storetest.URL(t, d), storetest.Logger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Ready(context.Background()); err == nil {
				t.Error("Ready() on an unmigrated database = nil, want an error")
			}
		})
	}
}

func TestDeliveryUniquePerEventSubscriberChannel(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		db := s.DB()
		exec := func(q string, args ...any) error {
			_, err := db.Exec(rebind(s, q), args...)
			return err
		}
		now := "2026-01-01 00:00:00+00:00"
		must(t, exec(`INSERT INTO subscribers (id, kind, address, token_nonce, created_at, updated_at) VALUES ('s1', 'email', 'a@example.com', 'n', ?, ?)`, now, now))
		must(t, exec(`INSERT INTO events (id, type, actor, created_at) VALUES ('e1', 'broadcast', 'test', ?)`, now))
		ins := `INSERT INTO deliveries (event_id, subscriber_id, channel, next_attempt_at, created_at, updated_at) VALUES ('e1', 's1', 'email', ?, ?, ?)`
		must(t, exec(ins, now, now, now))
		if err := exec(ins, now, now, now); err == nil {
			t.Fatal("second delivery for the same event, subscriber and channel was accepted")
		}
	})
}

func rebind(s *store.Store, q string) string {
	if s.Dialect() == store.Postgres {
		return sqlx.Rebind(sqlx.DOLLAR, q)
	}
	return q
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
