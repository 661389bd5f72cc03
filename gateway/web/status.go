package web

import (
	"strings"

	"github.com/heraldstatus/herald/gateway"
)

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
