package http_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// The field limits (limits.alert_labels, label_name_bytes,
// label_value_bytes, summary_bytes, at their defaults) hold for every
// format: a request with one alert over them is refused with 422 naming
// the field by the alert's index, and stores nothing; an alert exactly at
// them is taken.
func TestIngestFieldLimits(t *testing.T) {
	labels := func(n int) map[string]string {
		m := map[string]string{"alertname": "Big"}
		for i := len(m); i < n; i++ {
			m[fmt.Sprintf("l%02d", i)] = "v"
		}
		return m
	}
	withLabel := func(k, v string) map[string]string { m := labels(1); m[k] = v; return m }
	am := func(second map[string]any) string {
		b, _ := json.Marshal(map[string]any{"version": "4", "status": "firing", "alerts": []any{
			map[string]any{"status": "firing", "labels": map[string]string{"alertname": "Small"}}, second}})
		return string(b)
	}
	amAlert := func(l, a map[string]string) map[string]any {
		return map[string]any{"status": "firing", "labels": l, "annotations": a}
	}
	generic := func(summary string, l map[string]string) string {
		b, _ := json.Marshal(map[string]any{"status": "firing", "summary": summary, "labels": l})
		return string(b)
	}
	tests := []struct {
		name, source, body string
		field              string // "" for accepted
	}{
		{"at every limit", "am", am(amAlert(withLabel("v", strings.Repeat("x", 16<<10)),
			map[string]string{"summary": strings.Repeat("s", 64<<10), strings.Repeat("n", 256): "x"})), ""},
		{"64 labels", "am", am(amAlert(labels(64), nil)), ""},
		{"65 labels", "am", am(amAlert(labels(65), nil)), "alerts[1].labels"},
		{"65 annotations", "am", am(amAlert(labels(1), labels(65))), "alerts[1].annotations"},
		{"label value", "am", am(amAlert(withLabel("team", strings.Repeat("x", 16<<10+1)), nil)), "alerts[1].labels.team"},
		{"label name", "am", am(amAlert(withLabel(strings.Repeat("n", 257), "x"), nil)), "alerts[1].labels"},
		{"summary annotation", "am", am(amAlert(labels(1), map[string]string{"summary": strings.Repeat("s", 64<<10+1)})), "alerts[1].summary"},
		{"generic summary", "gen", generic(strings.Repeat("s", 64<<10+1), nil), "alerts[0].summary"},
		{"generic labels", "gen", generic("x", labels(65)), "alerts[0].labels"},
	}
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		tokens := map[string]string{}
		_, tokens["am"] = e.source("am", "alertmanager", 0)
		_, tokens["gen"] = e.source("gen", "generic", 0)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := len(e.alerts("source=" + tt.source))
				r := e.post("/ingest/"+tt.source, "Bearer "+tokens[tt.source], "application/json", strings.NewReader(tt.body))
				if tt.field == "" {
					if r.status != 202 {
						t.Fatalf("= %d %s, want 202", r.status, r.body)
					}
					return
				}
				if r.status != 422 || r.errorCode() != "unprocessable" || !strings.Contains(r.body, `"`+tt.field+`":`) {
					t.Fatalf("= %d %.300s, want 422 naming %s", r.status, r.body, tt.field)
				}
				if after := len(e.alerts("source=" + tt.source)); after != before {
					t.Errorf("a refused request stored %d alerts", after-before)
				}
			})
		}
	})
}
