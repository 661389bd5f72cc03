package alertmanagerapi_test

import (
	"os"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/sources/alertmanagerapi"
	"github.com/heraldstatus/herald/gateway/sources/internal/sourcetest"
)

var decoder = alertmanagerapi.Decoder{}

func TestDecode(t *testing.T) { sourcetest.Golden(t, decoder.Decode) }

// TestStatus checks that the status follows endsAt and the receive time,
// as in Alertmanager.
func TestStatus(t *testing.T) {
	now := sourcetest.Now
	tests := []struct {
		name   string
		endsAt string
		want   gateway.AlertStatus
	}{
		{"no endsAt", "", gateway.AlertFiring},
		{"endsAt of year 1", "0001-01-01T00:00:00Z", gateway.AlertFiring},
		{"endsAt ahead", now.Add(3 * time.Minute).Format(time.RFC3339), gateway.AlertFiring},
		{"endsAt now", now.Format(time.RFC3339), gateway.AlertResolved},
		{"endsAt past", now.Add(-time.Second).Format(time.RFC3339Nano), gateway.AlertResolved},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := `[{"labels":{"alertname":"A"},"endsAt":"` + tc.endsAt + `"}]`
			alerts, err := decoder.Decode([]byte(body), now)
			if err != nil {
				t.Fatal(err)
			}
			if got := alerts[0].Status; got != tc.want {
				t.Errorf("status = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPrometheusCaptures decodes what Prometheus 2.42 really sent (see
// testdata/README.md) at the moment it arrived, rather than at the
// golden files' fixed clock, which predates the capture: while the rule
// fires Prometheus sends an endsAt minutes ahead (firing), and once it
// stops, endsAt is the moment it stopped (resolved).
func TestPrometheusCaptures(t *testing.T) {
	tests := []struct {
		file     string
		received string
		want     gateway.AlertStatus
	}{
		{"testdata/prometheus-2.42-firing.json", "2026-12-07T05:08:01Z", gateway.AlertFiring},
		{"testdata/prometheus-2.42-resolved.json", "2026-12-07T05:08:21Z", gateway.AlertResolved},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			at, err := time.Parse(time.RFC3339, tc.received)
			if err != nil {
				t.Fatal(err)
			}
			alerts, err := decoder.Decode(body, at)
			if err != nil {
				t.Fatal(err)
			}
			if len(alerts) != 1 || alerts[0].Status != tc.want || alerts[0].Labels["alertname"] != "HighErrorRate" {
				t.Fatalf("decoded %+v, want one HighErrorRate alert %s", alerts, tc.want)
			}
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	sourcetest.RunInvalid(t, decoder.Decode, []sourcetest.Invalid{
		{Name: "object body", Body: `{"labels":{"alertname":"A"}}`, Code: gateway.EINVALID, Message: "must be a JSON array, not an object"},
		{Name: "malformed", Body: `[{"labels":{"alertname":"A"}]`, Code: gateway.EINVALID, Message: "byte offset"},
		{Name: "no labels", Body: `[{"labels":{"alertname":"A"}},{"annotations":{"summary":"x"}}]`, Code: gateway.EUNPROCESSABLE, Field: "[1].labels"},
		{Name: "empty labels", Body: `[{"labels":{}}]`, Code: gateway.EUNPROCESSABLE, Field: "[0].labels"},
		{Name: "labels not an object", Body: `[{"labels":["alertname"]}]`, Code: gateway.EUNPROCESSABLE, Field: "[0].labels"},
		{Name: "null alert", Body: `[null]`, Code: gateway.EUNPROCESSABLE, Field: "[0]"},
		{Name: "bad startsAt", Body: `[{"labels":{"a":"b"},"startsAt":"2026-11-24 01:00:00"}]`, Code: gateway.EUNPROCESSABLE, Field: "[0].startsAt"},
		{Name: "bad endsAt", Body: `[{"labels":{"a":"b"},"endsAt":"soon"}]`, Code: gateway.EUNPROCESSABLE, Field: "[0].endsAt"},
		{Name: "ends before start", Body: `[{"labels":{"a":"b"},"startsAt":"2026-11-24T01:00:00Z","endsAt":"2026-11-24T00:59:00Z"}]`, Code: gateway.EUNPROCESSABLE, Field: "[0].endsAt"},
	})
}

func FuzzDecode(f *testing.F) { sourcetest.Fuzz(f, decoder.Decode) }

func BenchmarkDecode(b *testing.B) { sourcetest.Bench(b, decoder.Decode, sourcetest.Largest(b)) }

func TestDecodeCompact(t *testing.T) {
	sourcetest.Compact(t, alertmanagerapi.DecodeCompact, alertmanagerapi.DecodePlain)
}

func FuzzDecodeCompact(f *testing.F) {
	sourcetest.FuzzCompact(f, alertmanagerapi.DecodeCompact, alertmanagerapi.DecodePlain,
		`[{"labels":{"a":"1"},"annotations":{"summary":"s"}},{"labels":{"a":"2"},"annotations":{"summary":"s"}}]`,
		`[{"labels":{"a":"1"},"endsAt":"2020-01-01T00:00:00Z"}, 1]`,
		`[{"labels":{"a":"1"}}] `, `{"labels":{"a":"1"}}`)
}
