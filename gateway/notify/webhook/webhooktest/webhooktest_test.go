package webhooktest_test

import (
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway/notify/webhook/webhooktest"
)

// TestCapturesMatchThemselves: every capture passes the comparer and the
// consumer's reads, so a failure elsewhere is Herald's, not the checker's.
func TestCapturesMatchThemselves(t *testing.T) {
	for kind, files := range map[string][]string{
		webhooktest.KindIncident:  {"webhook-incident.json", "webhook-incident-identified-2017.json", "webhook-incident-resolved-2017.json"},
		webhooktest.KindComponent: {"webhook-component.json", "webhook-component-maintenance-2017.json"},
	} {
		s, err := webhooktest.Captures(kind)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := webhooktest.Capture(f)
			if err != nil {
				t.Fatal(err)
			}
			if p := s.Compare(b, false); len(p) > 0 {
				t.Errorf("%s: %v", f, p)
			}
			if err := webhooktest.ConsumerReads(b); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
}

// TestCompareFindsWhatConsumersTripOn: the faults of issue reports are
// caught: an empty history, empty components, a retyped field, a missing
// key.
func TestCompareFindsWhatConsumersTripOn(t *testing.T) {
	s, err := webhooktest.Captures(webhooktest.KindIncident)
	if err != nil {
		t.Fatal(err)
	}
	good, err := webhooktest.Capture("webhook-incident-resolved-2017.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, from, to, want string
		readsFail            bool
	}{
		{"no history", `"incident_updates": [`, `"incident_updates": [], "x": [`, "$.incident.incident_updates[]: missing", true},
		{"no components", `"components": [`, `"components": [], "y": [`, "$.incident.components[]: missing", false},
		{"retyped position", `"position": 2`, `"position": "2"`, "$.incident.components[].position: string", false},
		{"missing key", `"shortlink": "http://stspg.io/646947c1e",`, ``, "$.incident.shortlink: missing", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := []byte(strings.Replace(string(good), tt.from, tt.to, 1))
			if string(bad) == string(good) {
				t.Fatalf("%q not in the capture", tt.from)
			}
			if p := strings.Join(s.Compare(bad, true), "\n"); !strings.Contains(p, tt.want) {
				t.Errorf("problems %q, want one with %q", p, tt.want)
			}
			if err := webhooktest.ConsumerReads(bad); (err != nil) != tt.readsFail {
				t.Errorf("ConsumerReads = %v, want failure %v", err, tt.readsFail)
			}
		})
	}
	// affected_components may be null (Statuspage sends it so): nothing below it is missing then.
	nulled := strings.ReplaceAll(string(good), `"affected_components": [`, `"affected_components": null, "z": [`)
	if p := s.Compare([]byte(nulled), true); len(p) > 0 || !strings.Contains(nulled, `"affected_components": null`) {
		t.Errorf("null affected_components: %v", p)
	}
}
