package gateway_test

import (
	"testing"

	"github.com/heraldstatus/herald/gateway"
)

// TestOverallIndicator: the page's indicator and its words are
// Statuspage's (the words as Statuspage's webhooks and API send them).
func TestOverallIndicator(t *testing.T) {
	comp := func(s gateway.ComponentStatus) gateway.Component { return gateway.Component{Status: s} }
	inc := func(i gateway.Impact) gateway.Incident {
		return gateway.Incident{Kind: gateway.KindIncident, Status: gateway.Investigating, Impact: i}
	}
	tests := []struct {
		comps []gateway.Component
		open  []gateway.Incident
		want  gateway.Indicator
		words string
	}{
		{nil, nil, gateway.IndicatorNone, "All Systems Operational"},
		{[]gateway.Component{comp(gateway.Operational), comp(gateway.DegradedPerformance)}, nil, gateway.IndicatorMinor, "Minor Service Outage"},
		{[]gateway.Component{comp(gateway.PartialOutage)}, nil, gateway.IndicatorMajor, "Partial System Outage"},
		{[]gateway.Component{comp(gateway.MajorOutage), comp(gateway.UnderMaintenance)}, nil, gateway.IndicatorCritical, "Major System Outage"},
		{[]gateway.Component{comp(gateway.UnderMaintenance)}, nil, gateway.IndicatorMaintenance, "Service Under Maintenance"},
		{[]gateway.Component{comp(gateway.UnderMaintenance)}, []gateway.Incident{inc(gateway.ImpactMinor)}, gateway.IndicatorMinor, "Minor Service Outage"},
		{[]gateway.Component{comp(gateway.Operational)}, []gateway.Incident{inc(gateway.ImpactCritical)}, gateway.IndicatorCritical, "Major System Outage"},
	}
	for _, tt := range tests {
		if got := gateway.Overall(tt.comps, tt.open); got != tt.want || got.Description() != tt.words {
			t.Errorf("Overall(%v, %v) = %s %q, want %s %q", tt.comps, tt.open, got, got.Description(), tt.want, tt.words)
		}
	}
}

// TestPageID: one id per page URL, whatever the trailing slash, shaped
// like Statuspage's ids.
func TestPageID(t *testing.T) {
	a, b := gateway.PageID("https://status.example.com"), gateway.PageID("https://status.example.com/")
	if a != b || len(a) != 12 || a == gateway.PageID("https://status.example.org") {
		t.Errorf("PageID: %q %q", a, b)
	}
	if got := (gateway.PageInfo{Name: "X", URL: "https://status.example.com"}).ID(); got != a {
		t.Errorf("PageInfo.ID = %q, want %q", got, a)
	}
}
