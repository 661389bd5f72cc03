package alertmanager_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/sources/alertmanager"
	"github.com/heraldstatus/herald/gateway/sources/internal/normalize"
	"github.com/heraldstatus/herald/gateway/sources/internal/sourcetest"
)

var decoder = alertmanager.Decoder{}

func TestDecode(t *testing.T) { sourcetest.Golden(t, decoder.Decode) }

func TestDecodeEmpty(t *testing.T) {
	alerts, err := decoder.Decode([]byte(`{"version":"4","status":"resolved","alerts":[]}`), sourcetest.Now)
	if err != nil || len(alerts) != 0 {
		t.Errorf("Decode = %v, %v; want no alerts, no error", alerts, err)
	}
}

func TestDecodeInvalid(t *testing.T) {
	const ok = `{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-11-24T01:00:00Z","endsAt":"0001-01-01T00:00:00Z"}`
	sourcetest.RunInvalid(t, decoder.Decode, []sourcetest.Invalid{
		{Name: "empty body", Body: " \n", Code: gateway.EINVALID, Message: "empty"},
		{Name: "truncated JSON", Body: `{"version":"4","alerts":[`, Code: gateway.EINVALID, Message: "byte offset 25 (line 1, column 26)"},
		{Name: "syntax error", Body: "{\"version\":\"4\",\n\"alerts\":[}]}", Code: gateway.EINVALID, Message: "line 2, column 11"},
		{Name: "array body", Body: `[` + ok + `]`, Code: gateway.EINVALID, Message: "must be a JSON object, not an array"},
		{Name: "null body", Body: `null`, Code: gateway.EINVALID, Message: "not null"},
		{Name: "not UTF-8", Body: "{\"version\":\"4\",\"alerts\":[],\"receiver\":\"\xff\"}", Code: gateway.EINVALID, Message: "UTF-8"},
		{Name: "version 3", Body: `{"version":"3","alerts":[` + ok + `]}`, Code: gateway.EUNPROCESSABLE, Field: "version"},
		{Name: "version as number", Body: `{"version":4,"alerts":[]}`, Code: gateway.EUNPROCESSABLE, Field: "version"},
		{Name: "no alerts", Body: `{"version":"4","status":"firing"}`, Code: gateway.EUNPROCESSABLE, Field: "alerts"},
		{Name: "alerts not a list", Body: `{"version":"4","alerts":{}}`, Code: gateway.EUNPROCESSABLE, Field: "alerts"},
		{Name: "null alert", Body: `{"alerts":[` + ok + `,null]}`, Code: gateway.EUNPROCESSABLE, Field: "alerts[1]"},
		{Name: "alert not an object", Body: `{"alerts":[1]}`, Code: gateway.EUNPROCESSABLE, Field: "alerts[0]"},
		{Name: "unknown status", Body: `{"alerts":[` + ok + `,{"status":"pending","labels":{"a":"b"}}]}`, Code: gateway.EUNPROCESSABLE, Field: "alerts[1].status"},
		{Name: "missing status", Body: `{"alerts":[{"labels":{"a":"b"}}]}`, Code: gateway.EUNPROCESSABLE, Field: "alerts[0].status"},
		{Name: "no labels", Body: `{"alerts":[{"status":"firing","labels":{}}]}`, Code: gateway.EUNPROCESSABLE, Field: "alerts[0].labels"},
		{Name: "label value not a string", Body: `{"alerts":[{"status":"firing","labels":{"code":500}}]}`, Code: gateway.EUNPROCESSABLE, Field: "alerts[0].labels"},
		{Name: "empty label name", Body: `{"alerts":[{"status":"firing","labels":{"":"x","a":"b"}}]}`, Code: gateway.EUNPROCESSABLE, Field: "alerts[0].labels"},
		{Name: "startsAt not RFC 3339", Body: `{"alerts":[{"status":"firing","labels":{"a":"b"},"startsAt":"24/11/2026 01:00"}]}`, Code: gateway.EUNPROCESSABLE, Field: "alerts[0].startsAt"},
		{Name: "endsAt before startsAt", Body: `{"alerts":[{"status":"resolved","labels":{"a":"b"},"startsAt":"2026-11-24T01:00:00Z","endsAt":"2026-11-24T00:00:00Z"}]}`, Code: gateway.EUNPROCESSABLE, Field: "alerts[0].endsAt"},
	})
}

func TestDecodeReportsEveryField(t *testing.T) {
	body := `{"alerts":[{"status":"x","labels":{"a":"b"}},{"status":"firing","labels":{},"startsAt":"yesterday"}]}`
	_, err := decoder.Decode([]byte(body), sourcetest.Now)
	var e *gateway.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a *gateway.Error", err)
	}
	for _, f := range []string{"alerts[0].status", "alerts[1].labels", "alerts[1].startsAt"} {
		if _, ok := e.Fields[f]; !ok {
			t.Errorf("fields = %v, want %q among them", e.Fields, f)
		}
	}
}

func FuzzDecode(f *testing.F) { sourcetest.Fuzz(f, decoder.Decode) }

func BenchmarkDecode(b *testing.B) {
	b.Run("largest-testdata", func(b *testing.B) { sourcetest.Bench(b, decoder.Decode, sourcetest.Largest(b)) })
	b.Run("100-alerts", func(b *testing.B) { sourcetest.Bench(b, decoder.Decode, syntheticBody(b, 100)) })
}

// syntheticBody returns a webhook body of n firing alerts shaped like
// alertmanager-firing.json.
func syntheticBody(tb testing.TB, n int) []byte {
	tb.Helper()
	alerts := make([]normalize.PrometheusAlert, n)
	for i := range alerts {
		instance := fmt.Sprintf("web-%d:9090", i)
		alerts[i] = normalize.PrometheusAlert{
			Status:       "firing",
			Labels:       map[string]string{"alertname": "HighLatency", "component": "checkout-api", "instance": instance, "service": "checkout", "severity": "critical"},
			Annotations:  map[string]string{"runbook_url": "https://runbooks.example.com/high-latency", "summary": "p99 latency above 2s on " + instance},
			StartsAt:     "2026-11-24T01:36:59.967686472Z",
			EndsAt:       "0001-01-01T00:00:00Z",
			GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=latency_p99+%3E+2",
			Fingerprint:  fmt.Sprintf("%016x", i),
		}
	}
	body, err := json.Marshal(map[string]any{
		"receiver": "herald", "status": "firing", "version": "4", "alerts": alerts,
		"groupLabels":  map[string]string{"alertname": "HighLatency"},
		"commonLabels": map[string]string{"alertname": "HighLatency", "service": "checkout"},
		"externalURL":  "http://alertmanager.example:9093", "groupKey": `{}:{alertname="HighLatency"}`, "truncatedAlerts": 0,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

// A notification that arrives after the alert's end (a retried delivery)
// still says "firing"; Alertmanager takes an alert whose endsAt has passed
// for resolved, and so does Herald. One whose end is still ahead fires.
func TestFiringAlertPastItsEndIsResolved(t *testing.T) {
	body, err := os.ReadFile("testdata/alertmanager-firing-ended.json")
	if err != nil {
		t.Fatal(err)
	}
	alerts, err := decoder.Decode(body, sourcetest.Now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]gateway.AlertStatus{"145b0bf2ce4fbb98": gateway.AlertResolved, "26a1e4c3f0b9d712": gateway.AlertFiring}
	for _, a := range alerts {
		if a.Status != want[a.Fingerprint] {
			t.Errorf("alert %s ending %v, received at %v: %s, want %s", a.Fingerprint, a.EndsAt, sourcetest.Now, a.Status, want[a.Fingerprint])
		}
	}
	if len(alerts) != len(want) {
		t.Errorf("%d alerts, want %d", len(alerts), len(want))
	}
}

func TestDecodeCompact(t *testing.T) {
	sourcetest.Compact(t, alertmanager.DecodeCompact, alertmanager.DecodePlain)
}

func FuzzDecodeCompact(f *testing.F) {
	const a = `{"status":"firing","labels":{"alertname":"A"},"annotations":{"summary":"s"},"fingerprint":"f"}`
	sourcetest.FuzzCompact(f, alertmanager.DecodeCompact, alertmanager.DecodePlain,
		`{"version":"4","alerts":[`+a+`,`+a+`]}`,
		`{"alerts":[{"status":"firing","labels":{"a":"1","a":"2"},"annotations":{"x":"\u00e9\n"}}]}`,
		`{"alerts":[{"status":"firing","labels":{"a":null},"annotations":{}}]}`,
		`{"alerts":[{"status":"firing","labels":{"a":"1"},"Labels":{"b":"2"}}]}`,
		`{"alerts":[{"status":"firing","labels":{"a":"1"},"annotations":{"s":"x"},"annotations":null}]}`,
		`{"alerts":[{"status":"firing","labels":{"a":"1"},"generatorURL":null,"GENERATORURL":"http://x/\u003c"}]}`,
		`{"alerts":[{"status":1,"labels":{"a":[]}}]}`,
		`{"alerts":{},"version":4}`,
		`{"alerts":[ {"status":"resolved","labels":{"a":"1"}} , {"status":"firing","labels":{"a":"1"}} ]}`,
		`{"alerts":[]}`, `{"alerts":null}`, `[]`)
}
