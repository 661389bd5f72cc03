package store_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// Recording a group of outcomes finds its deliveries by primary key, never
// by reading the whole table: planned on a table without statistics, as a
// prepared statement is when a fan-out starts, PostgreSQL's join on the
// JSON rows alone chose a sequential scan, which cost each group time in
// proportion to every delivery stored.
func TestOutcomesFindDeliveriesByKey(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		// A fan-out's deliveries, and no ANALYZE since.
		seedSubscribers(t, s, 5000)
		e := newEvent(t, s, gateway.Event{AllSubscribers: true})
		if _, err := s.PlanEvent(context.Background(), e.ID); err != nil {
			t.Fatal(err)
		}
		outcomes := `[{"id":1,"owner":"w","status":"sent"}]`
		for name, q := range store.OutcomeStatements(s) {
			if s.Dialect() == store.SQLite && name == "complete-and-log-deliveries" {
				continue // never run there (see its block)
			}
			args := []any{outcomes}
			if name == "complete-and-log-deliveries" {
				args = append(args, `[]`) // the attempts
			}
			text := explainPlan(t, s.DB(), s.Dialect(), q, args...)
			if strings.Contains(text, "Seq Scan on deliveries") || strings.Contains(text, "SCAN deliveries") && !strings.Contains(text, "INDEX") {
				t.Errorf("%s reads every delivery:\n%s", name, text)
			}
		}
	})
}

// explainPlan returns the plan the store's database makes for query, one
// line a step: EXPLAIN on PostgreSQL, EXPLAIN QUERY PLAN on SQLite.
func explainPlan(t *testing.T, db interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}, d store.Dialect, query string, args ...any) string {
	t.Helper()
	explain := "EXPLAIN "
	if d == store.SQLite {
		explain = "EXPLAIN QUERY PLAN "
	}
	rows, err := db.QueryContext(context.Background(), explain+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		// The plan's text is the last column (SQLite's detail,
		// PostgreSQL's only one).
		var line string
		dest := make([]any, len(cols))
		for i := range dest {
			dest[i] = new(any)
		}
		dest[len(dest)-1] = &line
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, strings.TrimSpace(line))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}
