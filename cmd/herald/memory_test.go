package main

import (
	"math"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/internal/mailsink"
)

// TestFanOutMemoryStaysFlat is the small guard of the one-million-subscriber
// figure (docs/bench/fanout-1m.sh): `herald serve`, in process, sends one
// broadcast to 10,000 subscribers through SMTP, and the live heap around
// the 8,000th delivery is compared with the live heap around the 2,000th. A
// dispatcher that streams keeps the same few batches in hand at both
// points; one that holds the planned deliveries, their outcomes or their
// messages grows with the count, by hundreds of bytes per delivery or more,
// which 6,000 more deliveries turn into megabytes.
//
// Each side is the least of ten samples, each after a forced collection,
// taken mid-way with the same kind of work in flight: one sample swings by
// megabytes with the batches in hand at that instant, the least of ten is
// the floor that a leak raises. The stores run one after another: the heap
// is the process's.
func TestFanOutMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("a 10,000-message fan-out")
	}
	const subscribers, samples, step = 10_000, 10, 200
	const early, late = 1_000, 7_000 // the first of each side's samples
	// growthBound is the allowed growth of the floor between the two
	// sides: 512 bytes per delivery in between. The floor's jitter on a
	// busy machine was within ±30 bytes per delivery on PostgreSQL and
	// ±230 on SQLite; keeping a delivery's row, outcome or message costs
	// more than 512. A leak of a bare id per delivery (~100 bytes) is
	// below what this size of run can tell from jitter: fanout-1m.sh's
	// peak RSS is the check for that.
	const growthBound = (late - early) * 512
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			url := storetest.URL(t, d)
			st := openMigrated(t, url)
			storetest.SeedSubscribers(t, st, gateway.SubscriberEmail, subscribers)
			// Count only: keeping each message would grow this process's
			// heap by what the test measures.
			sink := mailsink.Start(t, mailsink.Options{Keep: mailsink.KeepCount})
			const admin = "hrld_test_admin_token_0123456789"
			// Logs go to memory in this test's instance, so only errors:
			// a line per request would be a growing heap of our own.
			in := start(t, map[string]string{"HERALD_DATABASE_URL": url, "HERALD_ADMIN_TOKEN": admin,
				"HERALD_SMTP_URL": sink.URL(), "HERALD_LOG_LEVEL": "error"})
			in.waitReady(200, 30*time.Second)

			req, _ := http.NewRequest("POST", in.url+"/api/v1/broadcasts", strings.NewReader(`{"subject":"Memory","body":"One message to everyone."}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+admin)
			req.Header.Set("Idempotency-Key", "memory-"+d)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusAccepted {
				t.Fatalf("broadcast = %d\n%s", res.StatusCode, in.logs)
			}

			// floor is the least live heap of the samples taken as the sink
			// passes from, from+step, …
			floor := func(from int64) uint64 {
				t.Helper()
				least := uint64(math.MaxUint64)
				for i := range int64(samples) {
					n := from + i*step
					waitFor(t, 2*time.Minute, func() bool { return sink.Count() >= int(n) }, // a hang guard
						"%d messages at the sink (have %d)\n%s", n, sink.Count(), in.logs)
					runtime.GC()
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					least = min(least, m.HeapAlloc)
				}
				return least
			}
			h0 := floor(early)
			h1 := floor(late)
			waitFor(t, 2*time.Minute, func() bool { return sink.Count() >= subscribers },
				"all %d messages at the sink (have %d)", subscribers, sink.Count())
			growth := int64(h1) - int64(h0)
			t.Logf("%s: live heap %.1f MB around %d messages, %.1f MB around %d: %+.0f bytes per delivery",
				d, mb(h0), early, mb(h1), late, float64(growth)/(late-early))
			if growth > growthBound {
				t.Errorf("live heap grew by %.1f MB between %d and %d deliveries, more than %.1f MB: something keeps each delivery",
					mb(uint64(growth)), early, late, mb(growthBound))
			}
			if err := in.stop(); err != nil {
				t.Errorf("stop: %v", err)
			}
		})
	}
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }
