package gateway_test

import (
	"encoding/json"
	"testing"

	"github.com/heraldstatus/herald/gateway"
)

func TestParseMatcher(t *testing.T) {
	tests := []struct {
		in      string
		labels  map[string]string
		matches bool
		wantErr bool
	}{
		{in: "service=space", labels: map[string]string{"service": "space"}, matches: true},
		{in: `service="space"`, labels: map[string]string{"service": "space"}, matches: true},
		{in: "service = space", labels: map[string]string{"service": "space"}, matches: true},
		{in: "service!=space", labels: map[string]string{"service": "move"}, matches: true},
		{in: "service!=space", labels: map[string]string{}, matches: true},
		{in: "service=~sp.*", labels: map[string]string{"service": "space"}, matches: true},
		{in: "service=~sp.*", labels: map[string]string{"service": "aerospace"}, matches: false}, // anchored
		{in: "service!~sp.*", labels: map[string]string{"service": "move"}, matches: true},
		{in: "env=", labels: map[string]string{}, matches: true}, // a missing label is ""
		{in: "severity=~critical|warning", labels: map[string]string{"severity": "warning"}, matches: true},
		{in: "service=~(", wantErr: true},
		{in: "=space", wantErr: true},
		{in: "1abc=space", wantErr: true},
		{in: "service", wantErr: true},
		{in: "service>=3", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			m, err := gateway.ParseMatcher(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseMatcher(%q) err = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := m.Matches(tt.labels); got != tt.matches {
				t.Errorf("%s.Matches(%v) = %v, want %v", m, tt.labels, got, tt.matches)
			}
			// A matcher survives a round trip through storage, compiled.
			b, _ := json.Marshal(m)
			var back gateway.Matcher
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("unmarshal %s: %v", b, err)
			}
			if got := back.Matches(tt.labels); got != tt.matches {
				t.Errorf("after a JSON round trip, Matches = %v, want %v", got, tt.matches)
			}
		})
	}
}

func TestRouteFirstMatchWins(t *testing.T) {
	must := func(s string) gateway.Matcher {
		m, err := gateway.ParseMatcher(s)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	rules := []gateway.Rule{
		{ID: "space", Matchers: []gateway.Matcher{must("service=space")}},
		{ID: "workplace", Matchers: []gateway.Matcher{must("product=workplace")}},
		{ID: "catch-all"},
	}
	tests := []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"service": "space", "product": "workplace"}, "space"},
		{map[string]string{"service": "move", "product": "workplace"}, "workplace"},
		{map[string]string{"service": "dns"}, "catch-all"},
	}
	for _, tt := range tests {
		if got := gateway.Route(rules, tt.labels); got == nil || got.ID != tt.want {
			t.Errorf("Route(%v) = %v, want %s", tt.labels, got, tt.want)
		}
	}
	if got := gateway.Route(rules[:2], map[string]string{"service": "dns"}); got != nil {
		t.Errorf("Route with no match = %v, want nil", got.ID)
	}
}

func TestRuleStatusFor(t *testing.T) {
	r := gateway.Rule{SeverityStatus: map[gateway.Severity]gateway.ComponentStatus{gateway.SeverityWarning: gateway.PartialOutage}}
	if got := r.StatusFor(gateway.SeverityWarning); got != gateway.PartialOutage {
		t.Errorf("StatusFor(warning) = %s, want the rule's partial_outage", got)
	}
	if got := r.StatusFor(gateway.SeverityCritical); got != gateway.MajorOutage {
		t.Errorf("StatusFor(critical) = %s, want the default major_outage", got)
	}
}
