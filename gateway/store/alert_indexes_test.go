package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// alerts_incident holds only the alerts in an incident (migration 16): a
// new alert, in none, adds no entry to it. A lookup by incident, as when
// an incident is folded into another, still reads it on both stores.
func TestIncidentIndexLeavesNewAlertsOut(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		def := `SELECT sql FROM sqlite_master WHERE name = 'alerts_incident'`
		if s.Dialect() == store.Postgres {
			def = `SELECT indexdef FROM pg_indexes WHERE indexname = 'alerts_incident' AND schemaname = current_schema()`
		}
		var sql string
		if err := s.DB().QueryRowContext(ctx, def).Scan(&sql); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.ToUpper(sql), "WHERE (INCIDENT_ID IS NOT NULL)") &&
			!strings.Contains(strings.ToUpper(sql), "WHERE INCIDENT_ID IS NOT NULL") {
			t.Errorf("alerts_incident is %q; want it partial, WHERE incident_id IS NOT NULL", sql)
		}

		tx, err := s.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback() }()
		if s.Dialect() == store.Postgres {
			// An empty table without statistics: make any usable index
			// cheaper than reading the table.
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				t.Fatal(err)
			}
		}
		text := explainPlan(t, tx, s.Dialect(), storetest.Rebind(s, `UPDATE alerts SET incident_id = ? WHERE incident_id = ?`), "INC-2", "INC-1")
		if !strings.Contains(text, "alerts_incident") {
			t.Errorf("moving an incident's alerts does not read alerts_incident:\n%s", text)
		}
	})
}
