package main

import (
	"fmt"
	"math"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// firingConfig routes every alert of the generic source "monitors" to one
// component, so each new alert opens or joins an incident.
const firingConfig = `components: [{name: Load Module}]
sources:
  - name: monitors
    kind: generic
    token: ${SOURCE_TOKEN}
rules:
  - match: {job: load}
    components: [Load Module]
`

// TestMemoryPerFiringAlert reports what `herald serve` holds in memory per
// firing alert in the ingest and reconcile path: the live heap (the least
// of a few samples, each after a forced collection) once 1,000 alerts
// fire, and again once 10,000 more fire and are in their incident. It is a
// figure for docs/performance.md, not a bound: run it with -v.
//
//	go test ./cmd/herald -run TestMemoryPerFiringAlert -v
//
// Herald keeps alerts in the database, so the figure should stay near
// zero; a cache or a map keyed by alert shows here as tens or hundreds of
// bytes per alert.
func TestMemoryPerFiringAlert(t *testing.T) {
	if testing.Short() {
		t.Skip("11,000 alerts through herald serve")
	}
	const warm, firing, batch = 1_000, 10_000, 100
	const admin = "hrld_test_admin_token_0123456789"
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			url := storetest.URL(t, d)
			in := start(t, map[string]string{"HERALD_DATABASE_URL": url, "HERALD_ADMIN_TOKEN": admin,
				"HERALD_CONFIG": writeConfig(t, firingConfig), "SOURCE_TOKEN": scaleoutSource,
				"HERALD_OUTBOX_DIR": t.TempDir(), "HERALD_LOG_LEVEL": "error"})
			in.waitReady(200, 30*time.Second)
			load := &ingestLoad{token: scaleoutSource}
			// fire posts count new alerts and waits until the last one is
			// in an incident (the reconcile pass has caught up).
			fire := func(prefix string, count int) {
				t.Helper()
				for i := 0; i < count; i += batch {
					if code := load.post(in.url, fmt.Sprintf("%s%d", prefix, i), batch); code != http.StatusAccepted {
						t.Fatalf("ingest = %d\n%s", code, in.logs)
					}
				}
				last := fmt.Sprintf("%s%d-%d", prefix, count-batch, batch-1)
				waitFor(t, 2*time.Minute, func() bool {
					code, body := in.get("/api/v1/alerts?fingerprint="+last, admin)
					return code == http.StatusOK && strings.Contains(body, `"incident_id":"`)
				}, "alert %s in an incident\n%s", last, in.logs)
			}
			fire("warm", warm)
			h0 := liveHeapFloor()
			fire("firing", firing)
			h1 := liveHeapFloor()
			t.Logf("%s: live heap %.1f MB with %d firing alerts, %.1f MB with %d: %+.0f bytes per firing alert",
				d, mb(h0), warm, mb(h1), warm+firing, (float64(h1)-float64(h0))/firing)
			if err := in.stop(); err != nil {
				t.Errorf("stop: %v", err)
			}
		})
	}
}

// liveHeapFloor is the least live heap of five samples taken 100 ms apart,
// each after a forced collection: one sample swings with the requests and
// batches in hand at that instant.
func liveHeapFloor() uint64 {
	least := uint64(math.MaxUint64)
	for range 5 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		least = min(least, m.HeapAlloc)
		time.Sleep(100 * time.Millisecond)
	}
	return least
}
