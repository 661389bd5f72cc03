package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// BenchmarkCompleteDeliveries records the outcomes of sent deliveries in
// groups of 64 (a busy fan-out's group size): the recorder's statement
// work per message, without the network.
func BenchmarkCompleteDeliveries(b *testing.B) {
	const group = 64
	for _, d := range storetest.Databases() {
		b.Run(d, func(b *testing.B) {
			s := storetest.Open(b, d)
			ctx := context.Background()
			seedSubscribers(b, s, group*b.N)
			e := newEvent(b, s, gateway.Event{AllSubscribers: true})
			if _, err := s.PlanEvent(ctx, e.ID); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				ds, err := s.ClaimDue(ctx, "bench", gateway.ChannelEmail, group, time.Minute, time.Now())
				if err != nil || len(ds) != group {
					b.Fatalf("claim = %d, %v", len(ds), err)
				}
				cs := make([]store.Completion, len(ds))
				for i, dl := range ds {
					cs[i] = store.Completion{DeliveryID: dl.ID, Owner: "bench", SubscriberID: dl.SubscriberID, Status: gateway.DeliverySent,
						Attempt: &gateway.Attempt{AttemptedAt: time.Now(), Duration: time.Millisecond, Outcome: gateway.AttemptSent, Code: 250, Response: "250 2.0.0 OK queued"}}
				}
				b.StartTimer()
				if lost, err := s.CompleteDeliveries(ctx, cs); err != nil || len(lost) != 0 {
					b.Fatalf("complete = %v, %v", lost, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/group, "ns/outcome")
		})
	}
}
