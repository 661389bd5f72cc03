package ingest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway/sources"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// benchBodies builds a request body of n new alerts per format; seq makes
// every call's fingerprints new, so each iteration inserts.
var benchBodies = map[string]func(seq, n int) string{
	"alertmanager": func(seq, n int) string {
		return `{"version":"4","status":"firing","receiver":"herald","alerts":[` + alerts(seq, n, func(fp string, i int) string {
			return fmt.Sprintf(`{"status":"firing","labels":{"alertname":"Load","instance":"host-%d:9100","service":"load","severity":"critical"},`+
				`"annotations":{"summary":"alert %d"},"startsAt":"2026-11-24T01:00:00Z","endsAt":"0001-01-01T00:00:00Z",`+
				`"generatorURL":"http://prometheus:9090/graph","fingerprint":"%s"}`, i, i, fp)
		}) + `]}`
	},
	"alertmanager-api": func(seq, n int) string {
		return `[` + alerts(seq, n, func(fp string, i int) string {
			return fmt.Sprintf(`{"labels":{"alertname":"Load","instance":"%s","severity":"critical"},"annotations":{"summary":"alert %d"},`+
				`"startsAt":"2026-11-24T01:00:00Z","generatorURL":"http://prometheus:9090/graph"}`, fp, i)
		}) + `]`
	},
	"grafana": func(seq, n int) string {
		return `{"receiver":"herald","status":"firing","orgId":1,"alerts":[` + alerts(seq, n, func(fp string, i int) string {
			return fmt.Sprintf(`{"status":"firing","labels":{"alertname":"Load","instance":"host-%d"},"annotations":{"summary":"alert %d"},`+
				`"startsAt":"2026-11-24T01:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"%s","values":{"A":1}}`, i, i, fp)
		}) + `],"state":"alerting","title":"Load"}`
	},
	"generic": func(seq, n int) string {
		return `{"alerts":[` + alerts(seq, n, func(fp string, i int) string {
			return fmt.Sprintf(`{"fingerprint":"%s","status":"firing","severity":"critical","summary":"alert %d","labels":{"instance":"host-%d"}}`, fp, i, i)
		}) + `]}`
	},
	"pagerduty": func(seq, _ int) string {
		return fmt.Sprintf(`{"routing_key":"k","event_action":"trigger","dedup_key":"pd-%d",`+
			`"payload":{"summary":"alert","source":"host","severity":"critical"}}`, seq)
	},
}

// alerts joins n alerts; fingerprints are hashes, as real ones are, so
// that inserts land all over the unique index.
func alerts(seq, n int, alert func(fp string, i int) string) string {
	parts := make([]string, n)
	for i := range parts {
		sum := sha256.Sum256(fmt.Appendf(nil, "%d-%d", seq, i))
		parts[i] = alert(hex.EncodeToString(sum[:8]), i)
	}
	return strings.Join(parts, ",")
}

// benchConcurrency is how many requests the benchmark keeps in flight, as
// herald-load's README runs do (-concurrency 8): concurrent requests of
// one source share transactions (group commit), which a sequential loop
// would never show.
const benchConcurrency = 8

// BenchmarkIngest measures decode + store of requests of 100 new alerts
// (PagerDuty: one event) per format and dialect, 8 in flight, and in the
// same run its ceiling: decoding the same bodies with the same concurrency
// and storing nothing. It reports both rates and the first as a share of
// the second ("%-of-decode": how store-bound ingest is). Run with
// go test -run '^$' -bench Ingest ./gateway/ingest.
func BenchmarkIngest(b *testing.B) {
	for _, dialect := range storetest.Databases() {
		for _, format := range []string{"alertmanager", "alertmanager-api", "grafana", "generic", "pagerduty"} {
			b.Run(dialect+"/"+format, func(b *testing.B) {
				st := storetest.Open(b, dialect)
				svc := newService(b, st)
				src := newSource(b, st, "bench", format, 0)
				n := 100
				if format == "pagerduty" {
					n = 1
				}
				bodies := make([][]byte, b.N)
				for i := range bodies {
					bodies[i] = []byte(benchBodies[format](i, n))
				}
				ctx, now, dec := context.Background(), time.Now(), sources.Registry[format]
				b.ResetTimer()
				decodeTook := inParallel(b, bodies, func(body []byte) error {
					_, err := dec.Decode(body, now)
					return err
				})
				took := inParallel(b, bodies, func(body []byte) error {
					_, err := svc.Ingest(ctx, src, body, "application/json", time.Now())
					return err
				})
				alerts := float64(n * b.N)
				b.ReportMetric(alerts/took.Seconds(), "alerts/s")
				b.ReportMetric(alerts/decodeTook.Seconds(), "decoded-alerts/s")
				b.ReportMetric(100*decodeTook.Seconds()/took.Seconds(), "%-of-decode")
			})
		}
	}
}

// inParallel calls fn on every body from benchConcurrency goroutines and
// returns how long it took.
func inParallel(b *testing.B, bodies [][]byte, fn func([]byte) error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range benchConcurrency {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(bodies)); i = next.Add(1) - 1 {
				if err := fn(bodies[i]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}
