package notify_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/metrics"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// recorder is an in-memory Notifier: it records every call and answers
// with what answer says (success when nil).
type recorder struct {
	mu     sync.Mutex
	calls  map[int64]int  // delivery id → calls
	to     map[string]int // subscriber address → calls
	answer func(m *notify.Message, call int) (notify.Result, bool, error)
}

func newRecorder(answer func(m *notify.Message, call int) (notify.Result, bool, error)) *recorder {
	return &recorder{calls: map[int64]int{}, to: map[string]int{}, answer: answer}
}

func (r *recorder) Notify(ctx context.Context, m *notify.Message) (notify.Result, bool, error) {
	r.mu.Lock()
	r.calls[m.DeliveryID]++
	r.to[m.Subscriber.Address]++
	call := r.calls[m.DeliveryID]
	r.mu.Unlock()
	if r.answer == nil {
		return notify.Result{Code: 250}, false, nil
	}
	return r.answer(m, call)
}

func (r *recorder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		n += c
	}
	return n
}

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fixture is a store with a dispatcher on a test clock.
type fixture struct {
	t     *testing.T
	s     *store.Store
	clock *clock
	email *recorder
	hook  *recorder
	d     *notify.Dispatcher
	m     *metrics.Metrics
}

func newFixture(t *testing.T, s *store.Store, email, hook *recorder) *fixture {
	c := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s.Now = c.Now
	f := &fixture{t: t, s: s, clock: c, email: email, hook: hook, m: metrics.New()}
	f.d = &notify.Dispatcher{
		Store:     s,
		Notifiers: map[gateway.Channel]notify.Notifier{gateway.ChannelEmail: email, gateway.ChannelWebhook: hook},
		Links: func(sub *gateway.Subscriber) (string, string) {
			return "https://status.example.com/subscriptions/" + sub.ID, "https://status.example.com/unsubscribe/" + sub.ID
		},
		Log: storetest.Logger(t), Metrics: f.m, Owner: "test", Now: c.Now,
		Backoff: notify.Backoff{Jitter: -1}, // exact waits, so tests can step over them
	}
	return f
}

// broadcast writes and plans a broadcast to everyone.
func (f *fixture) broadcast(key string) string {
	f.t.Helper()
	p := &notify.Planner{Store: f.s}
	res, err := p.Broadcast(context.Background(), notify.Broadcast{Subject: "Maintenance tonight", Body: "Details.",
		IdempotencyKey: key, Actor: gateway.Principal{Name: "test"}})
	if err != nil {
		f.t.Fatal(err)
	}
	return res.Event.ID
}

// drain runs the dispatcher until a step handles nothing.
func (f *fixture) drain() int {
	f.t.Helper()
	total := 0
	for {
		n, err := f.d.RunOnce(context.Background())
		if err != nil {
			f.t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

func (f *fixture) deliveries(filter store.DeliveryFilter) []store.DeliveryLog {
	f.t.Helper()
	filter.Limit = 1000
	ds, err := f.s.Deliveries(context.Background(), filter)
	if err != nil {
		f.t.Fatal(err)
	}
	return ds
}

func TestEveryDeliveryIsSentExactlyOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, newRecorder(nil), newRecorder(nil))
		storetest.SeedSubscribers(t, s, gateway.SubscriberEmail, 300)
		for i := range 40 {
			storetest.AddSubscriber(t, s, storetest.Subscriber{Kind: gateway.SubscriberWebhook,
				Address: "https://hooks.example.com/x" + string(rune('a'+i%26)) + gateway.NewID(), All: true})
		}
		f.d.BatchSize, f.d.Workers = 64, 8
		f.broadcast("once")
		if n := f.drain(); n != 340 {
			t.Errorf("handled %d deliveries, want 340", n)
		}
		for _, r := range []*recorder{f.email, f.hook} {
			for id, n := range r.calls {
				if n != 1 {
					t.Errorf("delivery %d sent %d times", id, n)
				}
			}
		}
		if len(f.email.calls) != 300 || len(f.hook.calls) != 40 {
			t.Errorf("email got %d, webhook %d; want 300 and 40", len(f.email.calls), len(f.hook.calls))
		}
		for _, d := range f.deliveries(store.DeliveryFilter{}) {
			if d.Status != gateway.DeliverySent || len(d.Log) != 1 || d.Log[0].Outcome != gateway.AttemptSent {
				t.Fatalf("delivery %+v, want sent with one attempt", d)
			}
		}
		if got := counter(t, f.m, "herald_delivery_attempts_total", "sent"); got != 340 {
			t.Errorf("sent attempts metric = %v, want 340", got)
		}
	})
}

func TestTemporaryFailureThenSuccess(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		email := newRecorder(func(m *notify.Message, call int) (notify.Result, bool, error) {
			if call == 1 {
				return notify.Result{Code: 451, Response: "451 4.3.0 try again later"}, true, errors.New("smtp: 451 try again later")
			}
			return notify.Result{Code: 250}, false, nil
		})
		f := newFixture(t, s, email, newRecorder(nil))
		storetest.AddSubscriber(t, s, storetest.Subscriber{Address: "a@example.com", All: true})
		f.broadcast("temp")
		f.drain()
		d := f.deliveries(store.DeliveryFilter{})[0]
		if d.Status != gateway.DeliveryRetrying || d.LastCode != 451 || !d.NextAttemptAt.Equal(f.clock.Now().Add(5*time.Second)) {
			t.Fatalf("after a 451: %+v, want retrying in 5s", d.Delivery)
		}
		f.clock.Add(4 * time.Second)
		if n := f.drain(); n != 0 {
			t.Fatalf("sent %d before the retry was due", n)
		}
		f.clock.Add(time.Second)
		if n := f.drain(); n != 1 {
			t.Fatalf("handled %d when the retry was due, want 1", n)
		}
		d = f.deliveries(store.DeliveryFilter{})[0]
		if d.Status != gateway.DeliverySent || d.Attempts != 2 || len(d.Log) != 2 ||
			d.Log[0].Outcome != gateway.AttemptTemporary || d.Log[0].Response == "" || d.Log[1].Outcome != gateway.AttemptSent {
			t.Errorf("after the retry: %+v", d)
		}
	})
}

func TestPermanentFailureIsDeadWithoutRetry(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		email := newRecorder(func(*notify.Message, int) (notify.Result, bool, error) {
			return notify.Result{Code: 550}, false, errors.New("smtp: 550 mailbox unavailable")
		})
		f := newFixture(t, s, email, newRecorder(nil))
		storetest.AddSubscriber(t, s, storetest.Subscriber{Address: "nobody@example.com", All: true})
		f.broadcast("perm")
		f.drain()
		f.clock.Add(48 * time.Hour)
		f.drain()
		if n := email.total(); n != 1 {
			t.Errorf("a 550 was tried %d times, want 1", n)
		}
		d := f.deliveries(store.DeliveryFilter{})[0]
		if d.Status != gateway.DeliveryDead || d.LastCode != 550 || d.Log[0].Outcome != gateway.AttemptPermanent {
			t.Errorf("after a 550: %+v", d)
		}
	})
}

func TestGoneDisablesTheSubscriber(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		hook := newRecorder(func(*notify.Message, int) (notify.Result, bool, error) {
			return notify.Result{Code: 410, Gone: true}, false, errors.New("webhook: 410 Gone")
		})
		f := newFixture(t, s, newRecorder(nil), hook)
		id := storetest.AddSubscriber(t, s, storetest.Subscriber{Kind: gateway.SubscriberWebhook, Address: "https://gone.example.com/", All: true})
		f.broadcast("gone1")
		f.drain()
		f.broadcast("gone2")
		f.drain()
		if n := hook.total(); n != 1 {
			t.Errorf("the gone receiver was called %d times, want 1 (nothing after the 410)", n)
		}
		var status, reason string
		if err := s.DB().QueryRow(storetest.Rebind(s, `SELECT status, disabled_reason FROM subscribers WHERE id = ?`), id).Scan(&status, &reason); err != nil {
			t.Fatal(err)
		}
		if status != "disabled" || reason == "" {
			t.Errorf("subscriber after 410: %s (%q), want disabled with a reason", status, reason)
		}
	})
}

func TestRetryAfterIsHonouredWithinBounds(t *testing.T) {
	tests := []struct {
		retryAfter, want time.Duration
	}{
		{30 * time.Minute, 30 * time.Minute},
		{time.Second, notify.MinRetryAfter},
		{5 * time.Hour, notify.MaxRetryAfter},
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		for _, tt := range tests {
			hook := newRecorder(func(*notify.Message, int) (notify.Result, bool, error) {
				return notify.Result{Code: 429, RetryAfter: tt.retryAfter}, true, errors.New("webhook: 429")
			})
			f := newFixture(t, s, newRecorder(nil), hook)
			storetest.Exec(t, s, `DELETE FROM subscribers`)
			storetest.AddSubscriber(t, s, storetest.Subscriber{Kind: gateway.SubscriberWebhook, Address: "https://busy.example.com/" + gateway.NewID(), All: true})
			f.broadcast(tt.retryAfter.String())
			f.drain()
			d := f.deliveries(store.DeliveryFilter{Status: gateway.DeliveryRetrying})
			if len(d) != 1 || !d[0].NextAttemptAt.Equal(f.clock.Now().Add(tt.want)) {
				t.Errorf("Retry-After %s: %+v, want the next attempt in %s", tt.retryAfter, d, tt.want)
			}
		}
	})
}

func TestRetriesEndInDeadAfterTheSchedule(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		hook := newRecorder(func(*notify.Message, int) (notify.Result, bool, error) {
			return notify.Result{Code: 503}, true, errors.New("webhook: 503")
		})
		f := newFixture(t, s, newRecorder(nil), hook)
		storetest.AddSubscriber(t, s, storetest.Subscriber{Kind: gateway.SubscriberWebhook, Address: "https://down.example.com/", All: true})
		f.broadcast("down")
		for range 20 {
			f.drain()
			f.clock.Add(11 * time.Hour)
		}
		want := f.d.Backoff.MaxAttempts()
		if n := hook.total(); n != want {
			t.Errorf("tried %d times, want %d", n, want)
		}
		d := f.deliveries(store.DeliveryFilter{})[0]
		if d.Status != gateway.DeliveryDead || len(d.Log) != want {
			t.Errorf("after the schedule: %s with %d attempts logged", d.Status, len(d.Log))
		}
	})
}

func TestSendTimeChecks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, newRecorder(nil), newRecorder(nil))
		left := storetest.AddSubscriber(t, s, storetest.Subscriber{Address: "left@example.com", All: true})
		storetest.AddSubscriber(t, s, storetest.Subscriber{Address: "complained@example.com", All: true})
		pending := storetest.AddSubscriber(t, s, storetest.Subscriber{Address: "new@example.com", Status: gateway.SubscriberPending, All: true})
		f.broadcast("checks")
		confirm := gateway.Event{Type: gateway.EventSubscriberConfirm, SubscriberID: pending, Notify: true}
		if err := s.CreateEvent(context.Background(), &confirm); err != nil {
			t.Fatal(err)
		}
		// Between planning and sending: one leaves, one complains.
		storetest.Exec(t, s, `UPDATE subscribers SET status = 'unsubscribed' WHERE id = ?`, left)
		storetest.Suppress(t, s, "complained@example.com")
		f.drain()
		if got := f.email.to; got["left@example.com"] != 0 || got["complained@example.com"] != 0 || got["new@example.com"] != 1 {
			t.Errorf("sent to %v; want only the confirmation to new@example.com", got)
		}
		st := map[gateway.DeliveryStatus]int{}
		for _, d := range f.deliveries(store.DeliveryFilter{}) {
			st[d.Status]++
		}
		if st[gateway.DeliveryCancelled] != 1 || st[gateway.DeliverySuppressed] != 1 || st[gateway.DeliverySent] != 1 {
			t.Errorf("statuses %v, want one each of cancelled, suppressed, sent", st)
		}
	})
}
