// Package correlate makes Herald's incident decisions without I/O: which
// correlation group an alert belongs to, whether it joins an open incident
// or opens a new one, when an alert is flapping, what status a component
// shows, and what impact and title an incident gets. The incidents service
// feeds it what the store holds and persists what it decides.
package correlate

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// Settings are the correlation knobs of the config file.
type Settings struct {
	// GroupBy is what an alert must share with an open automated incident
	// to join it: empty = the whole page, ["component_group"], or label names.
	GroupBy       []string
	GroupWait     time.Duration
	GroupInterval time.Duration
	Window        time.Duration
	ResolveAfter  time.Duration
	MinAlerts     int
	FlapChanges   int
	FlapWindow    time.Duration
	// Draft keeps alert-made incidents unpublished until support publishes them.
	Draft bool
	// InferUpstreamMin is how many of an upstream's dependents must fire
	// within GroupWait to name it the probable cause (0: the default).
	InferUpstreamMin int
}

// GroupByComponentGroup is the GroupBy entry that correlates per group.
const GroupByComponentGroup = "component_group"

// Key returns the correlation key of a routed alert. groupIDs are the
// groups of the components the alert was routed to ("" for ungrouped).
// Alerts with equal keys belong in one incident while it is open.
func Key(groupBy []string, labels map[string]string, groupIDs []string) string {
	if len(groupBy) == 0 {
		return "page"
	}
	parts := make([]string, 0, len(groupBy))
	for _, g := range groupBy {
		if g == GroupByComponentGroup {
			gs := slices.Clone(groupIDs)
			sort.Strings(gs)
			gs = slices.Compact(gs)
			parts = append(parts, "group="+strings.Join(gs, ","))
			continue
		}
		parts = append(parts, g+"="+labels[g])
	}
	return strings.Join(parts, "\x1f")
}

// Candidate is an open automated incident that may take an alert.
type Candidate struct {
	ID          string
	Key         string
	LastAlertAt time.Time
}

// Joins reports whether an alert with key, arriving at now, joins c: same
// key, and c has seen an alert within the window. An incident quiet for
// longer than the window stops taking alerts, so a new fault opens a new
// incident instead of reviving an old story.
func (s Settings) Joins(c Candidate, key string, now time.Time) bool {
	return c.Key == key && now.Sub(c.LastAlertAt) <= s.Window
}

// ShouldOpen reports whether enough alerts fire in a group to open an
// incident (min_alerts): one noisy check should not page every customer.
func (s Settings) ShouldOpen(firing int) bool {
	return firing >= max(s.MinAlerts, 1)
}

// Flap is an alert's recent history of state changes.
type Flap struct {
	Changes int
	Since   time.Time // start of the counting window
}

// Record counts a state change at t and reports whether the alert is now
// flapping: more than FlapChanges changes within FlapWindow. The window is
// tumbling: a change after the window has passed starts a new count.
func (s Settings) Record(f Flap, t time.Time) (Flap, bool) {
	if f.Since.IsZero() || t.Sub(f.Since) > s.FlapWindow {
		f = Flap{Since: t}
	}
	f.Changes++
	return f, s.FlapChanges > 0 && f.Changes > s.FlapChanges
}

// Settled reports whether a flapping alert has been quiet long enough (a
// whole flap window without a change) to count as steady again.
func (s Settings) Settled(f Flap, lastChange, now time.Time) bool {
	return now.Sub(lastChange) >= s.FlapWindow
}

// ComponentStatus derives what a component shows: support's manual status
// wins while it is set; otherwise the worst status among its firing alerts;
// a component under maintenance shows under_maintenance unless an alert
// says worse. held is the status a flapping alert holds the component at
// (the worse state it reached), included like a firing alert's.
func ComponentStatus(manual gateway.ComponentStatus, firing []gateway.ComponentStatus, maintenance bool) gateway.ComponentStatus {
	if manual != "" {
		return manual
	}
	st := gateway.Operational
	if maintenance {
		st = gateway.UnderMaintenance
	}
	for _, f := range firing {
		st = st.Worse(f)
	}
	return st
}

// Impact derives an incident's impact from the worst status it gives a
// component, as Statuspage does: degraded → minor, partial outage → major,
// major outage → critical.
func Impact(worst gateway.ComponentStatus) gateway.Impact {
	switch worst {
	case gateway.DegradedPerformance:
		return gateway.ImpactMinor
	case gateway.PartialOutage:
		return gateway.ImpactMajor
	case gateway.MajorOutage:
		return gateway.ImpactCritical
	case gateway.UnderMaintenance:
		return gateway.ImpactMaintenance
	}
	return gateway.ImpactNone
}

// Worst is the component status an impact stands for, the inverse of
// Impact: what an automatic incident's title and impact escalate from.
func Worst(i gateway.Impact) gateway.ComponentStatus {
	for _, st := range []gateway.ComponentStatus{gateway.MajorOutage, gateway.PartialOutage, gateway.DegradedPerformance} {
		if Impact(st) == i {
			return st
		}
	}
	return gateway.Operational
}

// Title names an automatic incident after its worst status and the
// components it hits: "Major outage: Space Module, Move Module and 8 more".
func Title(worst gateway.ComponentStatus, components []string) string {
	head := map[gateway.ComponentStatus]string{
		gateway.DegradedPerformance: "Degraded performance",
		gateway.PartialOutage:       "Partial outage",
		gateway.MajorOutage:         "Major outage",
		gateway.UnderMaintenance:    "Maintenance",
	}[worst]
	if head == "" {
		head = "Service disruption"
	}
	switch n := len(components); {
	case n == 0:
		return head
	case n <= 3:
		return head + ": " + joinAnd(components)
	default:
		return head + ": " + components[0] + ", " + components[1] + " and " + itoa(n-2) + " more"
	}
}

func joinAnd(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// NextNotification returns when an incident's next automatic notification
// may go out: the first waits group_wait after the incident opened, so a
// storm arrives in one message; later ones wait group_interval after the
// last, so changes come at most once per interval.
func (s Settings) NextNotification(openedAt, lastNotified time.Time) time.Time {
	if lastNotified.IsZero() {
		return openedAt.Add(s.GroupWait)
	}
	return lastNotified.Add(s.GroupInterval)
}
