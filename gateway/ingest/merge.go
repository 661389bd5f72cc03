package ingest

import (
	"maps"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// Outcome is what became of one received alert.
type Outcome int

// Outcomes, as counted in Result and the herald_ingest_alerts_total metric.
const (
	// Accepted: a new alert, or a known one that changed state.
	Accepted Outcome = iota
	// Deduplicated: a known alert reported again in the state it is in; its
	// last-seen time and details are refreshed.
	Deduplicated
	// Stale: older than what is stored (a late firing after a newer
	// resolve, a late resolve of an earlier episode); ignored.
	Stale
)

func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Deduplicated:
		return "deduplicated"
	}
	return "stale"
}

// merge folds a received alert into its stored record (nil when the alert
// is new) and says what happened. The rules follow Alertmanager's: an
// alert's time is its start while firing and its end once resolved, and an
// update older than the stored time is stale:
//
//	stored    received  condition                        outcome
//	—         any                                        accepted (new)
//	firing    firing                                     deduplicated: keeps the earliest start
//	firing    resolved  ends before the stored start     stale
//	firing    resolved  otherwise                        accepted: resolved at its end
//	resolved  firing    starts at or before stored end,  stale
//	                    ends (if at all) by it too
//	resolved  firing    otherwise                        accepted: fires again
//	resolved  resolved  ends before the stored end       stale
//	resolved  resolved  otherwise                        deduplicated: keeps the latest end
//
// Labels and annotations accumulate: an update overrides what it carries
// and keeps the rest, because some formats send a resolve with nothing but
// its key (PagerDuty) and the alert must stay routed as it was. For the
// same reason an empty summary, generator URL or severity keeps the stored
// one, and a resolve never changes the severity. A state change counts in
// StateChanges; the count restarts when its window (flapWindow) has passed.
// merge never modifies cur.
//
// A firing alert that ends later than the stored end is newer than it,
// whenever it started: its sender (Prometheus, amtool) refreshes an alert
// that Herald resolved because its end passed without news, and, as in
// Alertmanager, the alert fires again. A new firing episode starts
// afresh: the store takes it out of the incident of its last episode (see
// update-alerts), so that correlation places it again.
func merge(cur *store.AlertRecord, in *gateway.Alert, now time.Time, flapWindow time.Duration) (*store.AlertRecord, Outcome) {
	if cur == nil {
		rec := &store.AlertRecord{Alert: *in}
		rec.LastSeenAt = now
		if rec.Severity == "" {
			rec.Severity = gateway.SeverityWarning
		}
		return rec, Accepted
	}
	if stale(cur, in) {
		return cur, Stale
	}
	next := *cur
	next.Labels = overlay(cur.Labels, in.Labels)
	next.Annotations = overlay(cur.Annotations, in.Annotations)
	next.Raw = in.Raw
	next.LastSeenAt = now
	if in.Summary != "" {
		next.Summary = in.Summary
	}
	if in.GeneratorURL != "" {
		next.GeneratorURL = in.GeneratorURL
	}
	if in.Severity != "" && in.Status == gateway.AlertFiring {
		next.Severity = in.Severity
	}
	if cur.Status == in.Status {
		if in.Status == gateway.AlertFiring {
			if in.StartsAt.Before(cur.StartsAt) {
				next.StartsAt = in.StartsAt
			}
			next.EndsAt = in.EndsAt // a firing alert's end is a timeout that each update moves
		} else if in.EndsAt.After(cur.EndsAt) {
			next.EndsAt = in.EndsAt
		}
		return &next, Deduplicated
	}
	next.Status = in.Status
	next.EndsAt = in.EndsAt
	if in.Status == gateway.AlertFiring {
		next.StartsAt = in.StartsAt
	}
	if next.StateChangesSince.IsZero() || now.Sub(next.StateChangesSince) > flapWindow {
		next.StateChanges, next.StateChangesSince = 0, now
	}
	next.StateChanges++
	return &next, Accepted
}

// stale reports whether in is older than the stored record cur.
func stale(cur *store.AlertRecord, in *gateway.Alert) bool {
	switch {
	case cur.Status == gateway.AlertFiring && in.Status == gateway.AlertResolved:
		return in.EndsAt.Before(cur.StartsAt)
	case cur.Status == gateway.AlertResolved && in.Status == gateway.AlertFiring:
		return !in.StartsAt.After(cur.EndsAt) && !in.EndsAt.After(cur.EndsAt)
	case cur.Status == gateway.AlertResolved && in.Status == gateway.AlertResolved:
		return in.EndsAt.Before(cur.EndsAt)
	}
	return false // firing again is never stale: it refreshes the alert
}

// overlay returns base with over's entries set: base itself when over
// sets nothing new, over itself when it holds all of base, else a new
// map. An update usually repeats the stored labels and annotations, and a
// request of 60,000 known alerts would otherwise make two maps for each;
// records may share maps, since no stage modifies one once it is made.
func overlay(base, over map[string]string) map[string]string {
	switch {
	case holds(base, over):
		return base
	case len(over) >= len(base) && holds(over, base):
		return over
	}
	out := make(map[string]string, len(base)+len(over))
	maps.Copy(out, base)
	maps.Copy(out, over)
	return out
}

// holds reports whether m has every entry of sub.
func holds(m, sub map[string]string) bool {
	for k, v := range sub {
		if w, ok := m[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// route sets rec's rule and components from the first rule that matches
// its labels; an alert no rule matches has neither.
func route(rec *store.AlertRecord, rules []gateway.Rule) {
	rule := gateway.Route(rules, rec.Labels)
	if rule == nil {
		rec.RuleID, rec.Components = "", nil
		return
	}
	rec.RuleID = rule.ID
	status := rule.StatusFor(rec.Severity)
	rec.Components = make([]store.AlertComponent, len(rule.ComponentIDs))
	for i, id := range rule.ComponentIDs {
		rec.Components[i] = store.AlertComponent{ComponentID: id, Status: status}
	}
}
