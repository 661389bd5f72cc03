package ingest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// poison makes the database itself refuse to insert an alert whose
// fingerprint is "poison", with a trigger: a real failure of a shared
// transaction caused by one request's content, which validation did not
// catch.
func poison(t *testing.T, st *store.Store) {
	t.Helper()
	stmts := map[store.Dialect][]string{
		store.SQLite: {`CREATE TRIGGER poison BEFORE INSERT ON alerts WHEN NEW.fingerprint = 'poison'
			BEGIN SELECT RAISE(ABORT, 'poisoned alert'); END`},
		store.Postgres: {`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.fingerprint = 'poison' THEN RAISE EXCEPTION 'poisoned alert'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER poison BEFORE INSERT ON alerts FOR EACH ROW EXECUTE FUNCTION poison()`},
	}[st.Dialect()]
	for _, q := range stmts {
		storetest.Exec(t, st, q)
	}
}

func serviceWithSource(t *testing.T, st *store.Store, name, kind string) (*Service, *gateway.Source) {
	t.Helper()
	src := &gateway.Source{Name: name, Kind: kind}
	if _, err := st.CreateSource(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	return New(st, Options{Log: storetest.Logger(t)}), src
}

func job(t *testing.T, ctx context.Context, src *gateway.Source, now time.Time, alerts ...gateway.Alert) *commitJob {
	t.Helper()
	for i := range alerts {
		normalize(&alerts[i], src.ID, now)
	}
	return &commitJob{ctx: ctx, source: src.ID, alerts: alerts, now: now, done: make(chan struct{})}
}

func alert(fp string, status gateway.AlertStatus, start, end time.Time) gateway.Alert {
	return gateway.Alert{Fingerprint: fp, Status: status, StartsAt: start, EndsAt: end,
		Severity: gateway.SeverityCritical, Labels: map[string]string{"fp": fp}}
}

// One transaction carries several requests: they merge in order (a firing
// then its resolve end as one resolved row) and each gets its own counts;
// when one request makes the shared transaction fail, the others are
// committed without it and it is answered with its own error, having
// stored nothing.
func TestGroupCommit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc, src := serviceWithSource(t, st, "prometheus", "alertmanager")
		poison(t, st)
		t0 := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)
		now := time.Now()

		shared := []*commitJob{
			job(t, ctx, src, now, alert("a", gateway.AlertFiring, t0, time.Time{}), alert("b", gateway.AlertFiring, t0, time.Time{})),
			job(t, ctx, src, now, alert("a", gateway.AlertResolved, t0, t0.Add(time.Minute))),
			job(t, ctx, src, now, alert("b", gateway.AlertFiring, t0, time.Time{}), alert("c", gateway.AlertFiring, t0, time.Time{})),
		}
		svc.commitBatch(shared)
		want := []Result{{Received: 2, Accepted: 2, Unrouted: 2}, {Received: 1, Accepted: 1, Unrouted: 1},
			{Received: 2, Accepted: 1, Deduplicated: 1, Unrouted: 2}}
		for i, j := range shared {
			<-j.done
			if j.err != nil || j.res != want[i] {
				t.Errorf("shared request %d = %+v, %v; want %+v", i, j.res, j.err, want[i])
			}
		}

		failing := []*commitJob{
			job(t, ctx, src, now, alert("d", gateway.AlertFiring, t0, time.Time{})),
			job(t, ctx, src, now, alert("e", gateway.AlertFiring, t0, time.Time{}), alert("poison", gateway.AlertFiring, t0, time.Time{})),
			job(t, ctx, src, now, alert("c", gateway.AlertResolved, t0, t0.Add(time.Minute))),
		}
		svc.commitBatch(failing)
		for i, j := range failing {
			<-j.done
			if (j.err != nil) != (i == 1) {
				t.Errorf("request %d of the failing batch: err %v; want an error for request 1 only", i, j.err)
			}
		}

		got := map[string]gateway.AlertStatus{}
		list, err := st.Alerts(ctx, store.AlertFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range list {
			got[a.Fingerprint] = a.Status
		}
		wantRows := map[string]gateway.AlertStatus{"a": gateway.AlertResolved, "b": gateway.AlertFiring,
			"c": gateway.AlertResolved, "d": gateway.AlertFiring}
		if len(got) != len(wantRows) {
			t.Errorf("rows %v, want %v (nothing of the poisoned request)", got, wantRows)
		}
		for fp, status := range wantRows {
			if got[fp] != status {
				t.Errorf("alert %s is %q, want %s", fp, got[fp], status)
			}
		}
	})
}

// A request that stops waiting before its batch starts is answered 503 and
// left out of the transaction; concurrent requests all get their answer.
func TestCommitQueue(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc, src := serviceWithSource(t, st, "scripts", "generic")
		t0 := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)

		gone, cancel := context.WithCancel(ctx)
		cancel()
		left := job(t, gone, src, time.Now(), alert("gone", gateway.AlertFiring, t0, time.Time{}))
		q := &commitQueue{jobs: []*commitJob{left}}
		if batch := takeBatch(q); len(batch) != 0 || len(q.jobs) != 0 {
			t.Fatalf("a cancelled request was batched: %d jobs, %d left", len(batch), len(q.jobs))
		}
		<-left.done
		if gateway.ErrorCode(left.err) != gateway.EUNAVAILABLE {
			t.Errorf("the cancelled request got %v, want unavailable", left.err)
		}

		const senders = 40
		var wg sync.WaitGroup
		for i := range senders {
			wg.Go(func() {
				fp := string(rune('A' + i))
				res, err := svc.Accept(ctx, src, []gateway.Alert{alert(fp, gateway.AlertFiring, t0, time.Time{})}, time.Now())
				if err != nil || res.Accepted != 1 {
					t.Errorf("request %d: %+v, %v", i, res, err)
				}
			})
		}
		wg.Wait()
		list, err := st.Alerts(ctx, store.AlertFilter{Limit: 1000})
		if err != nil || len(list) != senders {
			t.Errorf("%d rows (%v), want %d and not the cancelled one", len(list), err, senders)
		}
		svc.commits.mu.Lock()
		defer svc.commits.mu.Unlock()
		if len(svc.commits.queues) != 0 {
			t.Errorf("%d queues left after every request was answered", len(svc.commits.queues))
		}
	})
}

// A request of a few alerts that arrives while one of its source's
// transactions runs waits to share the next one, though more lanes are
// free; a request worth a transaction of its own (laneAlerts alerts) takes
// another lane at once, and that lane carries the small request with it.
func TestSmallRequestsShareALane(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		src := &gateway.Source{Name: "prometheus", Kind: "alertmanager"}
		if _, err := st.CreateSource(ctx, src); err != nil {
			t.Fatal(err)
		}
		svc := New(st, Options{Log: storetest.Logger(t), CommitConcurrency: 8})
		t0 := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)

		// A transaction of the source is in flight (this test holds its lane).
		q := &commitQueue{running: 1}
		svc.commits.mu.Lock()
		svc.commits.queues = map[string]*commitQueue{src.ID: q}
		svc.commits.mu.Unlock()
		queued := func() (jobs, running int) {
			svc.commits.mu.Lock()
			defer svc.commits.mu.Unlock()
			return len(q.jobs), q.running
		}
		wait := func(what string, ok func() bool) {
			t.Helper()
			storetest.WaitFor(t, 10*time.Second, time.Millisecond, ok, what)
		}

		small := job(t, ctx, src, time.Now(), alert("small", gateway.AlertFiring, t0, time.Time{}))
		var smallRes Result
		var smallErr error
		smallDone := make(chan struct{})
		go func() {
			smallRes, smallErr = svc.commit(small)
			close(smallDone)
		}()
		returned := func() bool {
			select {
			case <-smallDone:
				return true
			default:
				return false
			}
		}
		wait("the small request to be queued or answered", func() bool { n, _ := queued(); return n == 1 || returned() })
		if _, running := queued(); running != 1 || returned() {
			t.Fatalf("the small request did not wait for the running transaction (answered %v, %d running), with 7 lanes free",
				returned(), running)
		}

		big := make([]gateway.Alert, laneAlerts)
		for i := range big {
			big[i] = alert(fmt.Sprintf("big-%d", i), gateway.AlertFiring, t0, time.Time{})
		}
		res, err := svc.commit(job(t, ctx, src, time.Now(), big...))
		if err != nil || res.Accepted != laneAlerts {
			t.Fatalf("the big request: %+v, %v", res, err)
		}
		wait("the small request to be answered in the big one's lane", returned)
		if smallErr != nil || smallRes.Accepted != 1 {
			t.Errorf("the small request: %+v, %v", smallRes, smallErr)
		}

		svc.drain(src.ID, q, nil) // the held lane ends
		svc.commits.mu.Lock()
		defer svc.commits.mu.Unlock()
		if len(svc.commits.queues) != 0 || q.queued != 0 {
			t.Errorf("%d queues, %d alerts counted queued, after every request was answered", len(svc.commits.queues), q.queued)
		}
	})
}
