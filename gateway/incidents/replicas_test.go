package incidents_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestLosingReplicaDoesNotReadAhead lets one replica claim the due
// reconcile pass and die, and another tick meanwhile: the other reads
// nothing ahead (the expensive reads of a pass are the claimer's alone),
// and once the lease ends it takes the pass over. Replicas share only
// PostgreSQL, so the test runs there; it sees a read of the alerts as a
// wait on a lock it holds on their table.
func TestLosingReplicaDoesNotReadAhead(t *testing.T) {
	w := newWorld(t, storetest.Open(t, "postgres"), settings())
	w.fire("Space Module", "critical", gateway.AlertFiring)
	won, err := w.st.ClaimTimers(w.ctx, "winner", 100, time.Minute)
	if err != nil || len(won) != 1 || won[0].Kind != "reconcile" {
		t.Fatalf("the winner's claim: %v, %v; want the reconcile pass", won, err)
	}
	loser := w.service("loser")
	lock := lockAlerts(t, w.st)
	fired := 0
	if lock.readBy(func() (err error) { fired, err = loser.Tick(w.ctx); return err }) {
		t.Fatal("the replica that lost the claim read the alerts")
	}
	if fired != 0 {
		t.Errorf("the replica that lost the claim fired %d timers, want 0", fired)
	}
	// The probe sees a replica that does read ahead (and then lets it go).
	if !lock.readBy(func() error { return loser.Reconcile(w.ctx) }) {
		t.Fatal("a reconcile pass read ahead unseen: the probe is blind")
	}
	w.mu.Lock()
	w.now = w.now.Add(time.Minute + time.Second)
	w.mu.Unlock()
	if _, err := loser.Tick(w.ctx); err != nil { // the pass and the incident's notify, due by now
		t.Fatal(err)
	}
	next, err := w.st.Timer(w.ctx, "reconcile", "page")
	if err != nil || next.ID == won[0].ID || !next.DueAt.After(w.clock()) {
		t.Errorf("after the winner's lease: reconcile timer %+v, %v; want the claimed one fired and the next scheduled", next, err)
	}
}

// TestAPassHoldsItsNextRun lets a replica fire the reconcile pass and, once
// the pass's first part is written, ticks another replica at the next
// pass's due time. A pass of one part leaves the next one free at once, as
// it always did. A storm's pass, in parts, holds it until its last part is
// written, so that the other replica does not read the whole pass ahead
// only to find its alerts taken; it takes the next pass at its due time
// once the storm's pass is done.
func TestAPassHoldsItsNextRun(t *testing.T) {
	tests := []struct {
		name   string
		alerts int
		held   bool
	}{
		{"one part", 1, false},
		{"a storm in parts", 700, true}, // more than a part on either store
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, st *store.Store) {
				w := newWorld(t, st, settings())
				w.storm(tt.alerts)
				var fired []string
				other := w.replica("other", func(kind string) { fired = append(fired, kind) })
				var during []string // what the other fired while the first's pass ran
				first := w.replica("first", func(kind string) {
					if kind == timerReconcile {
						w.at(time.Second) // the next pass is due
						w.tickOnce(other)
						during, fired = fired, nil
					}
				})
				w.tickOnce(first)
				if got := slices.Contains(during, timerReconcile); got == tt.held {
					t.Errorf("while the pass ran, the other replica fired %v; want the next pass fired: %v", during, !tt.held)
				}
				w.tickOnce(other)
				if got := slices.Contains(fired, timerReconcile); got != tt.held {
					t.Errorf("after the pass, at the next one's due time, the other replica fired %v; want the next pass fired: %v", fired, tt.held)
				}
			})
		})
	}
}

// TestAPassOutlivesItsReplica lets a replica die after the first part of a
// storm's pass: the next pass stays the dead replica's until the lease
// ends, then another replica takes it and correlates the rest of the storm.
func TestAPassOutlivesItsReplica(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		const n = 700 // more than a part on either store
		w.storm(n)
		dead := w.replica("dead", func(string) { panic(died{}) })
		stopsDead(func() { _, _ = dead.Tick(w.ctx) })
		if joined := w.joined(); joined == 0 || joined == n {
			t.Fatalf("the dead replica joined %d alerts, want its first part of %d", joined, n)
		}
		var fired []string
		other := w.replica("other", func(kind string) { fired = append(fired, kind) })
		for _, step := range []struct {
			at    time.Duration
			taken bool
		}{{time.Second, false}, {holdLease, false}, {holdLease + time.Second, true}} {
			fired = nil
			w.at(step.at)
			w.tickOnce(other)
			if got := slices.Contains(fired, timerReconcile); got != step.taken {
				t.Fatalf("at %v the other replica fired %v; want the next pass fired: %v", step.at, fired, step.taken)
			}
		}
		if joined := w.joined(); joined != n {
			t.Errorf("after the other replica's pass the incident has %d alerts, want %d", joined, n)
		}
	})
}

const timerReconcile = "reconcile"

// holdLease is how long a pass in parts holds its next run past its latest
// part (incidents.holdLease).
const holdLease = 15 * time.Second

// died, panicked, stops a replica where its process would die.
type died struct{}

// stopsDead runs fn, which a panic with died stops.
func stopsDead(fn func()) {
	defer func() {
		if r := recover(); r != nil && r != (died{}) {
			panic(r)
		}
	}()
	fn()
}

// replica is another process on the world's store; fired sees the kind of
// each timer it fires.
func (w *world) replica(owner string, fired func(kind string)) *incidents.Service {
	o := w.options(owner)
	o.Fired = fired
	return incidents.New(o)
}

// at sets the clock to d after t0.
func (w *world) at(d time.Duration) {
	w.mu.Lock()
	w.now = t0.Add(d)
	w.mu.Unlock()
}

// tickOnce fires what svc claims now.
func (w *world) tickOnce(svc *incidents.Service) {
	w.t.Helper()
	if _, err := svc.Tick(w.ctx); err != nil {
		w.t.Fatal(err)
	}
}

// joined counts the alerts of the world's one incident.
func (w *world) joined() int {
	w.t.Helper()
	list, err := w.st.IncidentAlerts(w.ctx, w.only().ID, 10000)
	if err != nil {
		w.t.Fatal(err)
	}
	return len(list)
}

// alertsLock holds an exclusive lock on the alerts table, so that a read of
// them waits, and that wait shows in pg_locks.
type alertsLock struct {
	t  *testing.T
	tx *sql.Tx
}

func lockAlerts(t *testing.T, st *store.Store) *alertsLock {
	t.Helper()
	tx, err := st.DB().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	if _, err := tx.Exec("LOCK TABLE alerts IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	return &alertsLock{t: t, tx: tx}
}

// readBy runs fn and reports whether it tried to read the alerts while the
// lock was held. When it did, the lock is released so that fn finishes.
// The deadlines are hang guards: fn either waits on the lock or ends, in
// milliseconds.
func (l *alertsLock) readBy(fn func() error) bool {
	l.t.Helper()
	const within = 30 * time.Second
	done := make(chan error, 1)
	go func() { done <- fn() }()
	deadline := time.Now().Add(within)
	for {
		if time.Now().After(deadline) {
			l.t.Fatalf("after %v fn neither ended nor waited on the alerts lock", within)
		}
		select {
		case err := <-done:
			if err != nil {
				l.t.Error(err)
			}
			return false
		default:
		}
		var waiting int
		err := l.tx.QueryRow("SELECT COUNT(*) FROM pg_locks WHERE relation = 'alerts'::regclass AND NOT granted").Scan(&waiting)
		if err != nil {
			l.t.Fatal(err)
		}
		if waiting > 0 {
			if err := l.tx.Rollback(); err != nil {
				l.t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					l.t.Error(err)
				}
			case <-time.After(within):
				l.t.Fatalf("fn did not end within %v of the lock's release", within)
			}
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
}
