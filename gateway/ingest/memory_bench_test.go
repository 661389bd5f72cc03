package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway/ingest"
	"github.com/heraldstatus/herald/gateway/sources"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// largestBody is an Alertmanager webhook body of 10 MiB (limits.ingest_body's
// default) of small alerts, the shape that takes the most memory once
// decoded: the body cmd/herald's TestIngestPeakMemoryStaysUnderGOMEMLIMIT
// posts.
func largestBody() []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"version":"4","status":"firing","alerts":[`)
	for i := 0; ; i++ {
		a := fmt.Sprintf(`{"status":"firing","labels":{"alertname":"A","i":"%d","job":"node","instance":"host:9100"},`+
			`"annotations":{"summary":"x"},"fingerprint":"%016x"}`, i, i)
		if buf.Len()+len(a)+3 > 10<<20 {
			break
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(a)
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}

// BenchmarkIngestMemory measures the memory one body of the largest size
// takes, per alert: decoding it (bytes allocated, and kept by the decoded
// alerts), and ingesting it on SQLite, as new alerts and again as known
// ones (bytes allocated, and the peak of the live heap above what was live
// before, sampled by a collection every half second). Run with
// go test ./gateway/ingest -run '^$' -bench IngestMemory -benchtime 1x;
// docs/performance.md has the figures.
func BenchmarkIngestMemory(b *testing.B) {
	body := largestBody()
	dec := sources.Registry["alertmanager"]
	b.Run("decode", func(b *testing.B) {
		var n int
		var alloc, kept uint64
		for b.Loop() {
			before := memStats(true)
			alerts, err := dec.Decode(body, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			after := memStats(false)
			alloc += after.TotalAlloc - before.TotalAlloc
			kept += memStats(true).HeapAlloc - before.HeapAlloc
			n += len(alerts)
			runtime.KeepAlive(alerts)
		}
		b.ReportMetric(float64(alloc)/float64(n), "alloc-B/alert")
		b.ReportMetric(float64(kept)/float64(n), "kept-B/alert")
	})
	st := storetest.Open(b, "sqlite")
	svc := ingest.New(st, ingest.Options{Log: storetest.Logger(b), StoreTimeout: time.Minute})
	src := newSource(b, st, "am", "alertmanager", 0)
	for _, round := range []string{"new", "known"} {
		b.Run(round, func(b *testing.B) {
			var n int
			var alloc, peak uint64
			for b.Loop() {
				before := memStats(true)
				stop := sampleLiveHeap()
				res, err := svc.Ingest(context.Background(), src, body, "application/json", time.Now())
				if err != nil {
					b.Fatal(err)
				}
				peak = max(peak, stop()-before.HeapAlloc)
				alloc += memStats(false).TotalAlloc - before.TotalAlloc
				n += res.Received
			}
			b.ReportMetric(float64(alloc)/float64(n), "alloc-B/alert")
			b.ReportMetric(float64(peak)/float64(n/b.N), "peak-live-B/alert")
		})
	}
}

// memStats reads the memory statistics, after a collection when gc.
func memStats(gc bool) runtime.MemStats {
	if gc {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

// sampleLiveHeap collects every half second until the function it returns
// is called, which returns the largest live heap seen.
func sampleLiveHeap() func() uint64 {
	done, peak := make(chan struct{}), make(chan uint64)
	go func() {
		var most uint64
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				peak <- max(most, memStats(true).HeapAlloc)
				return
			case <-tick.C:
				most = max(most, memStats(true).HeapAlloc)
			}
		}
	}()
	return func() uint64 { close(done); return <-peak }
}
