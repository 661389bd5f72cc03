package probes_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/ingest"
	"github.com/heraldstatus/herald/gateway/probes"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestProbesRunOncePerIntervalAcrossReplicas: three runners (replicas,
// each its own lease owner) tick at the same moment on one database, round
// after round; the target counts each probe's requests, and each probe
// was requested exactly once per round.
func TestProbesRunOncePerIntervalAcrossReplicas(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var mu sync.Mutex
		hits := map[string]int{}
		srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hits[r.URL.Path]++
			mu.Unlock()
		}))
		defer srv.Close()
		const n, rounds = 30, 3
		for i := range n {
			p := &gateway.Probe{Name: fmt.Sprintf("p%02d", i), Kind: gateway.ProbeHTTP, Target: fmt.Sprintf("%s/p%02d", srv.URL, i)}
			p.Defaults()
			if err := st.CreateProbe(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		var runners []*probes.Runner
		for i := range 3 {
			runners = append(runners, probes.New(probes.Options{Store: st, Owner: fmt.Sprintf("replica-%d", i),
				Log: storetest.Logger(t), Ingest: ingest.New(st, ingest.Options{Log: storetest.Logger(t)})}))
		}
		for round := 1; round <= rounds; round++ {
			storetest.Exec(t, st, "UPDATE probes SET next_run_at = ?", time.Now().Add(-time.Second).UTC().Truncate(time.Microsecond))
			var wg sync.WaitGroup
			for _, r := range runners {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := r.Tick(ctx); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			waitResults(t, st, n*round)
			mu.Lock()
			for i := range n {
				if got := hits[fmt.Sprintf("/p%02d", i)]; got != round {
					t.Errorf("round %d: probe p%02d requested %d times, want %d", round, i, got, round)
				}
			}
			mu.Unlock()
		}
	})
}

// waitResults waits until want results are recorded in all.
func waitResults(t *testing.T, st *store.Store, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var got int
		if err := st.DB().QueryRow("SELECT COUNT(*) FROM probe_results").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d results recorded", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
