package incidents_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// reconcileLockKey is lock-reconcile's advisory lock on PostgreSQL.
const reconcileLockKey = 7411020001

// TestUpdateWaitsForAPassWithoutDeadlock: a reconcile pass holds the
// reconcile lock and then writes an incident's row while support posts an
// update to that incident. The update waits for the pass and then goes
// in; before the update took the reconcile lock first, it held the row
// while waiting for the lock, the pass waited for the row, and PostgreSQL
// ended the update with "deadlock detected" (herald demo's replay on
// PostgreSQL met it). SQLite has one writer, so the test runs on
// PostgreSQL.
func TestUpdateWaitsForAPassWithoutDeadlock(t *testing.T) {
	w := newWorld(t, storetest.Open(t, "postgres"), settings())
	support := gateway.Principal{Kind: "user", Name: "Dana", Role: gateway.RoleSupport}
	inc, err := w.svc.Create(w.ctx, support, incidents.NewIncident{Name: "SMS delays", Status: gateway.Investigating,
		Body: "Messages are late.", Components: map[string]gateway.ComponentStatus{"Space Module": gateway.PartialOutage}})
	if err != nil {
		t.Fatal(err)
	}

	// The pass: its transaction takes the reconcile lock.
	ctx := context.Background()
	pass, err := w.st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pass.Rollback() }()
	if _, err := pass.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", reconcileLockKey); err != nil {
		t.Fatal(err)
	}
	posted := make(chan error, 1)
	go func() {
		_, err := w.svc.PostUpdate(w.ctx, support, inc.ID, incidents.NewUpdate{Status: gateway.Identified, Body: "Found it."})
		posted <- err
	}()
	// Until the update waits for the lock (a hang guard, not a bound).
	deadline := time.Now().Add(30 * time.Second)
	for {
		waiting := storetest.MustCount(t, w.st, `SELECT COUNT(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND NOT l.granted AND a.datname = current_database()
			AND a.query LIKE '%pg_advisory_xact_lock(7411020001)%'`)
		if waiting > 0 {
			break
		}
		select {
		case err := <-posted:
			t.Fatalf("the update did not wait for the pass's lock: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the update never waited for the reconcile lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The pass writes the incident's row, then commits.
	if _, err := pass.ExecContext(ctx, "SELECT id FROM incidents WHERE id = $1 FOR UPDATE", inc.ID); err != nil {
		t.Fatalf("the pass could not lock the incident the update waits on: %v", err)
	}
	if err := pass.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-posted:
		if err != nil {
			t.Fatalf("the update after the pass: %v", err)
		}
	case <-time.After(30 * time.Second): // a hang guard
		t.Fatal("the update did not go in after the pass")
	}
	if got := w.only(); got.Status != gateway.Identified {
		t.Errorf("the incident is %s, want identified", got.Status)
	}
}
