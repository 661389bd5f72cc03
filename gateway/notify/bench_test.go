package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// BenchmarkDispatch100k plans one broadcast to 100,000 subscribers and
// runs the dispatcher until every delivery is recorded sent, with channels
// that return at once: the ceiling the queue itself (claim, load, record)
// puts on a fan-out. Real channels are measured against real sinks by
// cmd/herald-load. HERALD_BENCH_SUBSCRIBERS changes the 100,000.
func BenchmarkDispatch100k(b *testing.B) {
	half := max(1, storetest.BenchSubscribers(b, 100_000)/2)
	n := 2 * half
	for _, d := range storetest.Databases() {
		b.Run(d, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s := storetest.Open(b, d)
				storetest.SeedSubscribers(b, s, gateway.SubscriberEmail, half)
				storetest.SeedSubscribers(b, s, gateway.SubscriberWebhook, half)
				email, hook := newRecorder(nil), newRecorder(nil)
				disp := &notify.Dispatcher{Store: s, Log: storetest.Logger(b), Poll: 50 * time.Millisecond,
					Notifiers: map[gateway.Channel]notify.Notifier{gateway.ChannelEmail: email, gateway.ChannelWebhook: hook}}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				b.StartTimer()
				start := time.Now()
				go func() { done <- disp.Run(ctx) }()
				p := &notify.Planner{Store: s, Wake: disp.Wake}
				res, err := p.Broadcast(ctx, notify.Broadcast{Subject: "s", Body: "b", IdempotencyKey: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				storetest.WaitFor(b, storetest.HangGuard(n), 10*time.Millisecond,
					func() bool { return email.total()+hook.total() >= n }, "every delivery to reach a channel")
				cancel()
				<-done // Run returns once every outcome is recorded
				b.ReportMetric(float64(n)/time.Since(start).Seconds(), "deliveries/s")
				b.StopTimer()
				counts, err := s.DeliveryCounts(context.Background(), res.Event.ID)
				if err != nil || counts[gateway.DeliverySent] != n {
					b.Fatalf("after the run: %v, %v; want %d sent", counts, err, n)
				}
				b.StartTimer()
			}
		})
	}
}
