package store

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
)

func TestExpandBulk(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"values", "INSERT INTO t (a, b) VALUES (?, NULLIF(?, '')) ON CONFLICT DO NOTHING", 3,
			"INSERT INTO t (a, b) VALUES (?, NULLIF(?, '')), (?, NULLIF(?, '')), (?, NULLIF(?, '')) ON CONFLICT DO NOTHING"},
		{"in list", "SELECT x FROM t WHERE s = ? AND f IN (?) ORDER BY f", 3,
			"SELECT x FROM t WHERE s = ? AND f IN (?, ?, ?) ORDER BY f"},
		{"one row", "INSERT INTO t (a) VALUES (?)", 1, "INSERT INTO t (a) VALUES (?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := expandBulk(tt.in, tt.n); got != tt.want {
				t.Errorf("expandBulk(%d) =\n%s\nwant\n%s", tt.n, got, tt.want)
			}
		})
	}
	if got := unbind("SELECT $1, $12 WHERE a = $3"); got != "SELECT ?, ? WHERE a = ?" {
		t.Errorf("unbind = %q", got)
	}
}

// The lock of a request's alerts must probe the unique index once per
// fingerprint: a plan that scans the source's alerts makes every request
// slower as the table grows (SQLite 3.54 plans a join with VALUES so).
func TestLockAlertsUsesTheIndex(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	args := make([]any, 101)
	for i := range args {
		args[i] = "x"
	}
	var plan []struct {
		ID, Parent, Notused int
		Detail              string
	}
	if err := s.db.SelectContext(ctx, &plan, "EXPLAIN QUERY PLAN "+s.bulk(s.q.LockAlerts, 100), args...); err != nil {
		t.Fatal(err)
	}
	if len(plan) != 1 || !strings.Contains(plan[0].Detail, "(source_id=? AND fingerprint=?)") {
		t.Errorf("lock-alerts plan = %+v, want one search of the unique index on both columns", plan)
	}
}

// TestCountsSortNothing: the queue's depth (read every time the metrics
// are collected) and an event's progress count a million rows during a
// large broadcast. Counted with GROUP BY status, SQLite sorted all of them
// first, in memory: the peak of the process's RSS in a
// million-subscriber fan-out. One row of filtered counts sorts nothing.
func TestCountsSortNothing(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	for name, q := range map[string]string{"queue-depth": s.q.QueueDepth, "event-delivery-counts": s.q.EventDeliveryCounts} {
		var plan []struct {
			ID, Parent, Notused int
			Detail              string
		}
		args := []any{}
		if strings.Count(q, "?") == 1 {
			args = append(args, "e")
		}
		if err := s.db.SelectContext(ctx, &plan, "EXPLAIN QUERY PLAN "+q, args...); err != nil {
			t.Fatal(err)
		}
		for _, p := range plan {
			if strings.Contains(p.Detail, "TEMP B-TREE") || strings.HasPrefix(p.Detail, "SCAN deliveries") && !strings.Contains(p.Detail, "INDEX") {
				t.Errorf("%s: plan step %q sorts or scans the whole table", name, p.Detail)
			}
		}
	}
}

// openSQLite returns a migrated, prepared store on a new SQLite file.
func openSQLite(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "h.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}
