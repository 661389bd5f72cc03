package gateway_test

import (
	"testing"
	"time"

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

// TestCapture: an event keeps the page's status, the components it
// concerns in page order with their group, and the group of each change.
func TestCapture(t *testing.T) {
	created := time.Date(2021, 9, 1, 9, 0, 0, 0, time.UTC)
	st := &gateway.PageState{
		Groups: []gateway.ComponentGroup{{ID: "g1", Name: "Modules"}},
		Components: []gateway.Component{
			{ID: "a", Name: "Space", GroupID: "g1", Position: 0, Status: gateway.DegradedPerformance, CreatedAt: created},
			{ID: "b", Name: "Move", GroupID: "g1", Position: 1, Status: gateway.Operational, CreatedAt: created},
			{ID: "c", Name: "App", Status: gateway.Operational, Description: "Mobile", CreatedAt: created},
		},
		Open: []gateway.Incident{{Kind: gateway.KindIncident, Status: gateway.Identified, Impact: gateway.ImpactMajor}},
	}
	p := gateway.EventPayload{Components: []gateway.ComponentChange{{ID: "a", OldStatus: gateway.Operational, NewStatus: gateway.DegradedPerformance}}}
	p.Capture(st, []string{"c", "a"})
	if p.PageStatus == nil || p.PageStatus.Indicator != gateway.IndicatorMajor || p.PageStatus.Description != "Partial System Outage" {
		t.Errorf("page status %+v, want major (the open incident's impact)", p.PageStatus)
	}
	if len(p.Affected) != 2 || p.Affected[0].ID != "a" || p.Affected[0].Group != "Modules" || p.Affected[0].GroupID != "g1" ||
		p.Affected[1].ID != "c" || p.Affected[1].Description != "Mobile" || !p.Affected[1].CreatedAt.Equal(created) {
		t.Errorf("affected %+v, want Space then App, in page order", p.Affected)
	}
	if p.Components[0].Group != "Modules" {
		t.Errorf("change's group %q, want Modules", p.Components[0].Group)
	}
	if ids := st.ComponentIDs(); len(ids) != 3 || ids[2] != "c" {
		t.Errorf("ComponentIDs %v", ids)
	}
}
