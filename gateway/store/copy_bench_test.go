package store_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// BenchmarkCopySubscribersToPostgres copies HERALD_BENCH_SUBSCRIBERS
// subscribers (default 10,000), each subscribed to one component, from
// SQLite into a new PostgreSQL schema, verification included, and reports
// rows per second and the highest heap in use, sampled every 20 ms: the
// copy streams, so the heap stays flat whatever the size.
//
//	HERALD_BENCH_SUBSCRIBERS=1000000 go test -run '^$' -bench BenchmarkCopySubscribersToPostgres -benchtime 1x ./gateway/store/
func BenchmarkCopySubscribersToPostgres(b *testing.B) {
	n := storetest.BenchSubscribers(b, 10000)
	ctx := context.Background()
	src := storetest.Open(b, "sqlite")
	now := time.Now().UTC()
	storetest.Exec(b, src, `INSERT INTO components (id, name, status_changed_at, created_at, updated_at) VALUES ('c1', 'Space Module', ?, ?, ?)`, now, now, now)
	storetest.SeedSubscribers(b, src, gateway.SubscriberEmail, n)
	storetest.Exec(b, src, `INSERT INTO subscriptions (subscriber_id, component_id, created_at) SELECT id, 'c1', created_at FROM subscribers`)

	for b.Loop() {
		dst, err := store.Open(ctx, storetest.PostgresURL(b), storetest.Logger(b))
		if err != nil {
			b.Fatal(err)
		}
		var peak atomic.Uint64
		stop := sampleHeap(&peak)
		start := time.Now()
		plan, err := store.PlanCopy(ctx, src, dst, store.CopyOptions{Watch: time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		report, err := plan.Run(ctx, nil)
		if err != nil || !report.OK() {
			b.Fatalf("copy: %v %+v", err, report)
		}
		elapsed := time.Since(start)
		stop()
		dst.Close()
		b.ReportMetric(float64(plan.Rows())/elapsed.Seconds(), "rows/s")
		b.ReportMetric(elapsed.Seconds(), "s/copy")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	}
}

// sampleHeap records the highest HeapInuse into peak until stop is called.
func sampleHeap(peak *atomic.Uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}
