package gateway

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// PageID is the status page's id wherever Herald names the page (the
// Statuspage-compatible API's page.id, webhooks' page.id and page_id): the
// same on every replica and in every message, derived from the page's
// public URL (a trailing slash does not count). It looks like Statuspage's
// ids: twelve lower-case base32 characters.
func PageID(url string) string {
	sum := sha256.Sum256([]byte(strings.TrimRight(url, "/")))
	return strings.ToLower(base32.StdEncoding.EncodeToString(sum[:]))[:12]
}

// ID is the page's id (see PageID).
func (p PageInfo) ID() string { return PageID(p.URL) }

// Indicator is the page's overall state in Statuspage's vocabulary (its
// status.indicator, and page.status_indicator of its webhooks): none,
// minor, major, critical or maintenance.
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

// Description is the indicator in Statuspage's words (its
// status.description and its webhooks' page.status_description).
func (i Indicator) Description() string {
	switch i {
	case IndicatorMinor:
		return "Minor Service Outage"
	case IndicatorMajor:
		return "Partial System Outage"
	case IndicatorCritical:
		return "Major System Outage"
	case IndicatorMaintenance:
		return "Service Under Maintenance"
	}
	return "All Systems Operational"
}

// What a component's status and an unresolved incident's impact say of the
// page, as Statuspage maps them.
var (
	byComponent = map[ComponentStatus]Indicator{DegradedPerformance: IndicatorMinor,
		PartialOutage: IndicatorMajor, MajorOutage: IndicatorCritical, UnderMaintenance: IndicatorMaintenance}
	byImpact = map[Impact]Indicator{ImpactMinor: IndicatorMinor, ImpactMajor: IndicatorMajor, ImpactCritical: IndicatorCritical}
)

// Overall derives the page's indicator as Statuspage does: the worse of
// what the components show (degraded → minor, partial outage → major,
// major outage → critical) and the impact of the unresolved incidents
// (open is read as the page shows it: only open incidents of kind
// incident count); maintenance when a component is under maintenance and
// nothing fails.
func Overall(components []Component, open []Incident) Indicator {
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
		if inc.Kind == KindIncident && inc.Status.Open() {
			raise(byImpact[inc.Impact])
		}
	}
	return worst
}

// PageState is what the status page shows at one moment: every component
// in page order, the groups, and the published incidents still open. An
// event captures what it needs of it when it is written (see
// EventPayload.Capture).
type PageState struct {
	Components []Component
	Groups     []ComponentGroup
	Open       []Incident
}

// ComponentIDs lists the ids of every component, in page order.
func (s *PageState) ComponentIDs() []string {
	ids := make([]string, len(s.Components))
	for i, c := range s.Components {
		ids[i] = c.ID
	}
	return ids
}

// Capture records in p what receivers need of the page at the moment the
// event is written, so that a message sent later, or sent again, says
// what was true then: the page's status, the components the event
// concerns as the page showed them (those of ids, in page order), and the
// group name of each changed component.
func (p *EventPayload) Capture(s *PageState, ids []string) {
	i := Overall(s.Components, s.Open)
	p.PageStatus = &PageStatus{Indicator: i, Description: i.Description()}
	groups := map[string]string{}
	for _, g := range s.Groups {
		groups[g.ID] = g.Name
	}
	wanted := map[string]bool{}
	for _, id := range ids {
		wanted[id] = true
	}
	groupOf := map[string]string{}
	p.Affected = []ComponentSnapshot{}
	for _, c := range s.Components {
		groupOf[c.ID] = groups[c.GroupID]
		if wanted[c.ID] {
			p.Affected = append(p.Affected, ComponentSnapshot{ID: c.ID, Name: c.Name, Status: c.Status,
				GroupID: c.GroupID, Group: groups[c.GroupID], Description: c.Description, Position: c.Position,
				CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
		}
	}
	for k := range p.Components {
		p.Components[k].Group = groupOf[p.Components[k].ID]
	}
}
