package incidents_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestLookaheadBytesPerPendingAlert measures the heap a reconcile pass's
// lookahead holds per pending alert. In a storm the pass falls behind
// ingest and its lookahead holds every alert not yet in an incident: with
// each alert's labels kept (about 530 bytes each for Alertmanager's
// usual labels), 100,000 pending alerts were a live heap of about 100 MB,
// which Herald's GOGC=400 let grow to five times that. The pass needs an
// alert's labels only for its correlation key, so the lookahead keeps the
// key and drops the labels, and alerts routed alike share one list of
// components.
func TestLookaheadBytesPerPendingAlert(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		const batches, batch = 40, 100
		for b := range batches {
			alerts := make([]any, 0, batch)
			for i := range batch {
				id := b*batch + i
				alerts = append(alerts, map[string]any{"status": "firing",
					"labels": map[string]string{"alertname": "NodeDown", "module": "space", "severity": "critical",
						"instance": fmt.Sprintf("host-%05d.example.com:9100", id), "job": "node", "team": "workplace"},
					"annotations": map[string]string{"summary": fmt.Sprintf("node %d is down", id)},
					"startsAt":    w.clock().Format(time.RFC3339Nano), "endsAt": "0001-01-01T00:00:00Z",
					"generatorURL": "http://prometheus.example.com/graph", "fingerprint": fmt.Sprintf("fp-%06d", id)})
			}
			body, err := json.Marshal(map[string]any{"version": "4", "status": "firing", "receiver": "herald",
				"groupKey": "{}:{alertname=\"NodeDown\"}", "groupLabels": map[string]string{"alertname": "NodeDown"},
				"commonLabels": map[string]string{"alertname": "NodeDown"}, "commonAnnotations": map[string]string{},
				"externalURL": "http://alertmanager.example.com", "truncatedAlerts": 0, "alerts": alerts})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.in.Ingest(w.ctx, w.src, body, "application/json", w.clock()); err != nil {
				t.Fatal(err)
			}
		}
		before := liveHeap()
		n, ahead := incidents.LookAhead(w.ctx, w.svc)
		after := liveHeap()
		runtime.KeepAlive(ahead)
		if n != batches*batch {
			t.Fatalf("the lookahead holds %d pending alerts, want %d", n, batches*batch)
		}
		per := (int64(after) - int64(before)) / int64(n)
		t.Logf("%s: %d bytes of live heap per pending alert in the lookahead (%d alerts)", st.Dialect(), per, n)
		// The lean lookahead's figure is 70-90 bytes (the alert's id,
		// flags and shared components, and the group's slice); with the
		// labels kept it was about 530.
		if per > 250 {
			t.Errorf("the lookahead holds %d bytes per pending alert, want at most 250", per)
		}
	})
}

// liveHeap is the heap reachable after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
