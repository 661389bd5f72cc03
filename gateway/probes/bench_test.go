package probes_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/ingest"
	"github.com/heraldstatus/herald/gateway/probes"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// BenchmarkSchedule measures how well one node keeps the probes' schedule:
// HERALD_BENCH_PROBES tcp probes every HERALD_BENCH_PROBE_INTERVAL against
// a listener on loopback, on SQLite, for HERALD_BENCH_PROBE_ROUNDS
// intervals. Drift is how late each run starts after it was due. The first
// round (every probe due at once, as at the first start) is reported apart
// from the steady rounds after it. Its defaults (100 probes, 2s, 2 rounds)
// keep CI's single run short; the figure in docs/probes.md is of 1,000
// probes at 30s, run alone, once:
//
//	HERALD_BENCH_PROBES=1000 HERALD_BENCH_PROBE_INTERVAL=30s HERALD_BENCH_PROBE_ROUNDS=2 \
//	  go test ./gateway/probes/ -run '^$' -bench BenchmarkSchedule -benchtime 1x
func BenchmarkSchedule(b *testing.B) {
	n := envInt(b, "HERALD_BENCH_PROBES", 100)
	rounds := envInt(b, "HERALD_BENCH_PROBE_ROUNDS", 2)
	every := 2 * time.Second
	if v := os.Getenv("HERALD_BENCH_PROBE_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatal(err)
		}
		every = d
	}
	ln := acceptor(b)
	for range b.N {
		st := storetest.Open(b, "sqlite")
		ctx, cancel := context.WithCancel(context.Background())
		for i := range n {
			p := &gateway.Probe{Name: fmt.Sprintf("p%04d", i), Kind: gateway.ProbeTCP, Target: ln.Addr().String(),
				Interval: every, Timeout: time.Second}
			p.Defaults()
			if err := st.CreateProbe(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
		var mu sync.Mutex
		var first, steady []time.Duration
		seen := map[string]int{}
		r := probes.New(probes.Options{Store: st, Log: storetest.Logger(b),
			Ingest: ingest.New(st, ingest.Options{Log: storetest.Logger(b)}),
			Started: func(name string, due, started time.Time) {
				mu.Lock()
				defer mu.Unlock()
				seen[name]++
				if seen[name] == 1 {
					first = append(first, started.Sub(due))
				} else {
					steady = append(steady, started.Sub(due))
				}
			}})
		done := make(chan struct{})
		b.ResetTimer()
		go func() { defer close(done); _ = r.Run(ctx) }()
		time.Sleep(time.Duration(rounds)*every + every/2)
		cancel()
		<-done
		b.StopTimer()
		mu.Lock()
		b.ReportMetric(float64(len(first)+len(steady)), "runs")
		b.ReportMetric(pct(first, 99).Seconds()*1000, "first-round-drift-p99-ms")
		b.ReportMetric(pct(steady, 50).Seconds()*1000, "drift-p50-ms")
		b.ReportMetric(pct(steady, 99).Seconds()*1000, "drift-p99-ms")
		b.ReportMetric(pct(steady, 100).Seconds()*1000, "drift-max-ms")
		if len(steady) < n*(rounds-1) {
			b.Errorf("%d steady runs, want at least %d: probes missed their schedule", len(steady), n*(rounds-1))
		}
		mu.Unlock()
	}
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

func envInt(b *testing.B, key string, def int) int {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		b.Fatal(err)
	}
	return n
}
