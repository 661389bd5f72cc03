package web

import (
	"strings"

	"github.com/heraldstatus/herald/gateway"
)

// Indicator is the page's overall state in Statuspage's vocabulary (its
// status.indicator): none, minor, major, critical or maintenance.
type Indicator string

// The indicators, from best to worst; maintenance shows only when nothing
// is failing.
const (
	IndicatorNone        Indicator = "none"
	IndicatorMaintenance Indicator = "maintenance"
	IndicatorMinor       Indicator = "minor"
	IndicatorMajor       Indicator = "major"
	IndicatorCritical    Indicator = "critical"
)

var indicatorRank = map[Indicator]int{IndicatorNone: 0, IndicatorMaintenance: 1, IndicatorMinor: 2, IndicatorMajor: 3, IndicatorCritical: 4}

// Description is the banner's words for the indicator, as Statuspage
// words its status.description.
func (i Indicator) Description() string {
	switch i {
	case IndicatorMinor:
		return "Minor Service Outage"
	case IndicatorMajor:
		return "Partial System Outage"
	case IndicatorCritical:
		return "Major Service Outage"
	case IndicatorMaintenance:
		return "Service Under Maintenance"
	}
	return "All Systems Operational"
}

// What a component's status and an unresolved incident's impact say of the
// page, as Statuspage maps them.
var (
	byComponent = map[gateway.ComponentStatus]Indicator{gateway.DegradedPerformance: IndicatorMinor,
		gateway.PartialOutage: IndicatorMajor, gateway.MajorOutage: IndicatorCritical, gateway.UnderMaintenance: IndicatorMaintenance}
	byImpact = map[gateway.Impact]Indicator{gateway.ImpactMinor: IndicatorMinor, gateway.ImpactMajor: IndicatorMajor,
		gateway.ImpactCritical: IndicatorCritical}
)

// Overall derives the page's indicator as Statuspage does: the worse of
// what the components show (degraded → minor, partial outage → major,
// major outage → critical) and the impact of the unresolved incidents;
// maintenance when a component is under maintenance and nothing fails.
func Overall(components []gateway.Component, open []gateway.Incident) Indicator {
	worst := IndicatorNone
	raise := func(i Indicator) {
		if indicatorRank[i] > indicatorRank[worst] {
			worst = i
		}
	}
	for _, c := range components {
		raise(byComponent[c.Status])
	}
	for _, inc := range open {
		if inc.Kind == gateway.KindIncident && inc.Status.Open() {
			raise(byImpact[inc.Impact])
		}
	}
	return worst
}

// statusLabel is a component status as the page words it.
func statusLabel(s gateway.ComponentStatus) string {
	switch s {
	case gateway.Operational:
		return "Operational"
	case gateway.DegradedPerformance:
		return "Degraded Performance"
	case gateway.PartialOutage:
		return "Partial Outage"
	case gateway.MajorOutage:
		return "Major Outage"
	case gateway.UnderMaintenance:
		return "Under Maintenance"
	}
	return "Unknown"
}

// statusClass is the CSS class of a component status ("" → no data).
func statusClass(s gateway.ComponentStatus) string {
	if s == "" {
		return "nodata"
	}
	return strings.ReplaceAll(string(s), "_", "-")
}

// incidentWord is an incident (or maintenance) status as the timeline
// words it: "Investigating", "In progress".
func incidentWord(s gateway.IncidentStatus) string {
	w := strings.ReplaceAll(string(s), "_", " ")
	if w == "" {
		return ""
	}
	return strings.ToUpper(w[:1]) + w[1:]
}
