package generic_test

import (
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/sources/generic"
	"github.com/heraldstatus/herald/gateway/sources/internal/sourcetest"
)

var decoder = generic.Decoder{}

func TestDecode(t *testing.T) { sourcetest.Golden(t, decoder.Decode) }

// TestFingerprint checks what identifies an alert that sends no
// fingerprint: its labels, else its summary.
func TestFingerprint(t *testing.T) {
	decodeOne := func(body string) gateway.Alert {
		t.Helper()
		alerts, err := decoder.Decode([]byte(body), sourcetest.Now)
		if err != nil {
			t.Fatal(err)
		}
		return alerts[0]
	}
	byLabels := decodeOne(`{"status":"firing","summary":"one","labels":{"job":"backup"}}`)
	if got, want := byLabels.Fingerprint, gateway.LabelsFingerprint(map[string]string{"job": "backup"}); got != want {
		t.Errorf("fingerprint = %q, want the labels' hash %q", got, want)
	}
	if other := decodeOne(`{"status":"resolved","summary":"two","labels":{"job":"backup"}}`); other.Fingerprint != byLabels.Fingerprint {
		t.Errorf("same labels, other summary: fingerprint %q, want %q", other.Fingerprint, byLabels.Fingerprint)
	}
	a, b := decodeOne(`{"status":"firing","summary":"disk full"}`), decodeOne(`{"status":"resolved","summary":"disk full"}`)
	if a.Fingerprint != b.Fingerprint || a.Fingerprint == byLabels.Fingerprint {
		t.Errorf("summary-only fingerprints %q and %q, want equal and unlike %q", a.Fingerprint, b.Fingerprint, byLabels.Fingerprint)
	}
}

func TestDecodeInvalid(t *testing.T) {
	sourcetest.RunInvalid(t, decoder.Decode, []sourcetest.Invalid{
		{Name: "malformed", Body: `{"status":"firing",`, Code: gateway.EINVALID, Message: "byte offset"},
		{Name: "array body", Body: `[{"status":"firing","summary":"x"}]`, Code: gateway.EINVALID, Message: "JSON object"},
		{Name: "alerts not a list", Body: `{"alerts":{"status":"firing"}}`, Code: gateway.EUNPROCESSABLE, Field: "alerts"},
		{Name: "alerts null", Body: `{"alerts":null}`, Code: gateway.EUNPROCESSABLE, Field: "alerts"},
		{Name: "no status", Body: `{"summary":"x"}`, Code: gateway.EUNPROCESSABLE, Field: "status"},
		{Name: "bad status", Body: `{"status":"down","summary":"x"}`, Code: gateway.EUNPROCESSABLE, Field: "status"},
		{Name: "bad status in list", Body: `{"alerts":[{"status":"firing","summary":"a"},{"status":"firing","summary":"b"},{"status":"ok","summary":"c"}]}`, Code: gateway.EUNPROCESSABLE, Field: "alerts[2].status"},
		{Name: "neither summary nor labels", Body: `{"alerts":[{"status":"firing","fingerprint":"f"}]}`, Code: gateway.EUNPROCESSABLE, Field: "alerts[0].summary"},
		{Name: "unknown severity", Body: `{"status":"firing","summary":"x","severity":"apocalyptic"}`, Code: gateway.EUNPROCESSABLE, Field: "severity"},
		{Name: "severity not a string", Body: `{"status":"firing","summary":"x","severity":1}`, Code: gateway.EUNPROCESSABLE, Field: "severity"},
		{Name: "labels not strings", Body: `{"alerts":[{"status":"firing","labels":{"code":500}}]}`, Code: gateway.EUNPROCESSABLE, Field: "alerts[0].labels"},
		{Name: "bad starts_at", Body: `{"status":"firing","summary":"x","starts_at":"1732410000"}`, Code: gateway.EUNPROCESSABLE, Field: "starts_at"},
		{Name: "ends before start", Body: `{"status":"resolved","summary":"x","starts_at":"2026-11-24T01:00:00Z","ends_at":"2026-11-23T01:00:00Z"}`, Code: gateway.EUNPROCESSABLE, Field: "ends_at"},
		{Name: "long fingerprint", Body: `{"status":"firing","summary":"x","fingerprint":"` + strings.Repeat("f", 256) + `"}`, Code: gateway.EUNPROCESSABLE, Field: "fingerprint"},
		{Name: "null alert", Body: `{"alerts":[null]}`, Code: gateway.EUNPROCESSABLE, Field: "alerts[0]"},
	})
}

func FuzzDecode(f *testing.F) { sourcetest.Fuzz(f, decoder.Decode) }

func BenchmarkDecode(b *testing.B) { sourcetest.Bench(b, decoder.Decode, sourcetest.Largest(b)) }
