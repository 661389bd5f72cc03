package notify_test

import (
	"context"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/metrics"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// counter sums a Herald counter over channels for one outcome.
func counter(t *testing.T, m *metrics.Metrics, name, outcome string) float64 {
	t.Helper()
	if name != "herald_delivery_attempts_total" {
		t.Fatalf("counter %s: not supported", name)
	}
	sum := 0.0
	for _, ch := range []string{"email", "webhook"} {
		var v dto.Metric
		if err := m.DeliveryAttempts.WithLabelValues(ch, outcome).Write(&v); err != nil {
			t.Fatal(err)
		}
		sum += v.GetCounter().GetValue()
	}
	return sum
}

// waitFor polls cond until it holds; the bound is a hang guard, not a
// performance threshold.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *fixture) count(status gateway.DeliveryStatus) int {
	n := 0
	for _, d := range f.deliveries(store.DeliveryFilter{Status: status}) {
		_ = d
		n++
	}
	return n
}

// start runs the dispatcher until cancel is called; wait waits for Run to
// return.
func (f *fixture) start() (cancel, wait func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.d.Run(ctx) }()
	return cancel, func() {
		if err := <-done; err != nil {
			f.t.Error(err)
		}
	}
}

func TestRunSendsWhatIsPlannedAndStops(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, newRecorder(nil), newRecorder(nil))
		f.d.Poll = time.Hour // only Wake makes it work: nothing waits for a poll
		storetest.SeedSubscribers(t, s, gateway.SubscriberEmail, 500)
		cancel, wait := f.start()
		// An event written by other code (the outbox), then a wake-up.
		e := gateway.Event{Type: gateway.EventBroadcast, AllSubscribers: true, Notify: true,
			Payload: gateway.EventPayload{Broadcast: &gateway.BroadcastMessage{Subject: "s", Body: "b"}}}
		if err := s.CreateEvent(context.Background(), &e); err != nil {
			t.Fatal(err)
		}
		f.d.Wake()
		waitFor(t, "500 deliveries sent", func() bool { return f.count(gateway.DeliverySent) == 500 })
		cancel()
		wait()
		if n := f.email.total(); n != 500 || len(f.email.calls) != 500 {
			t.Errorf("%d sends for %d deliveries, want 500 for 500", n, len(f.email.calls))
		}
	})
}

// On shutdown a send in flight is finished and recorded, not abandoned to
// its lease (which would send it again from another process).
func TestShutdownFinishesSendsInFlight(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		entered, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		email := newRecorder(func(m *notify.Message, call int) (notify.Result, bool, error) {
			once.Do(func() { close(entered) })
			<-release
			return notify.Result{Code: 250}, false, nil
		})
		f := newFixture(t, s, email, newRecorder(nil))
		f.d.Workers = 1
		storetest.AddSubscriber(t, s, storetest.Subscriber{Address: "a@example.com", All: true})
		storetest.AddSubscriber(t, s, storetest.Subscriber{Address: "b@example.com", All: true})
		f.broadcast("shutdown")
		cancel, wait := f.start()
		<-entered
		cancel()       // shutdown begins while a send is in flight…
		close(release) // …which then finishes
		wait()
		if n := email.total(); n != 1 {
			t.Errorf("%d sends, want 1: nothing new is claimed after shutdown", n)
		}
		if sent, sending := f.count(gateway.DeliverySent), f.count(gateway.DeliverySending); sent != 1 || sending != 0 {
			t.Errorf("after shutdown %d sent and %d still sending; want 1 and 0", sent, sending)
		}
	})
}

// A process killed mid-fan-out leaves rows leased; once the lease runs out
// another dispatcher sends them, and nothing else twice.
func TestAKilledProcessesRowsComeBack(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, newRecorder(nil), newRecorder(nil))
		storetest.SeedSubscribers(t, s, gateway.SubscriberEmail, 50)
		f.broadcast("crash")
		ctx := context.Background()
		// The killed process had claimed 10 and sent none of them.
		if ds, err := s.ClaimDeliveries(ctx, "killed:email:1", gateway.ChannelEmail, 10, 2*time.Minute, f.clock.Now()); err != nil || len(ds) != 10 {
			t.Fatalf("claim = %d, %v", len(ds), err)
		}
		if n := f.drain(); n != 40 {
			t.Fatalf("sent %d while the leases held, want 40", n)
		}
		f.clock.Add(3 * time.Minute)
		if n := f.drain(); n != 10 {
			t.Fatalf("sent %d after the leases expired, want 10", n)
		}
		for id, n := range f.email.calls {
			if n != 1 {
				t.Errorf("delivery %d sent %d times", id, n)
			}
		}
		if f.count(gateway.DeliverySent) != 50 {
			t.Errorf("%d sent, want 50", f.count(gateway.DeliverySent))
		}
	})
}
