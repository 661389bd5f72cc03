package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// CheckLifecycle fails tb unless the page tells no lie about alerts, as
// the admin API reads it (components with their held reason, open
// incidents and maintenances with their components, alerts): every
// component without a manual status shows what its active alerts (firing,
// or flapping) and maintenance say, and every one of them that alerts
// made non-operational is covered by an open incident, or else says why
// it is held outside one, truthfully:
//
//   - maintenance: a maintenance in progress covers it;
//   - flapping: all its active alerts are flapping;
//   - min_alerts: a steady alert fires on it and belongs to no incident.
//
// A component that is not held says so (held is ""). Call it after every
// step of a scenario, once the reconcile pass has run.
func CheckLifecycle(tb testing.TB, st *store.Store) {
	tb.Helper()
	ctx := context.Background()
	comps, err := st.Components(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	covered := coveredComponents(tb, st, gateway.KindIncident)
	inMaintenance := coveredComponents(tb, st, gateway.KindMaintenance)
	alerts, err := st.Alerts(ctx, store.AlertFilter{Limit: 100000})
	if err != nil {
		tb.Fatal(err)
	}
	type state struct {
		worst          gateway.ComponentStatus
		active, steady int
		pending        bool // a steady firing alert in no incident
	}
	byComp := map[string]*state{}
	for _, a := range alerts {
		if a.Status != gateway.AlertFiring && !a.Flapping {
			continue
		}
		for _, c := range a.Components {
			s := byComp[c.ComponentID]
			if s == nil {
				s = &state{worst: gateway.Operational}
				byComp[c.ComponentID] = s
			}
			s.worst = s.worst.Worse(c.Status)
			s.active++
			if a.Status == gateway.AlertFiring && !a.Flapping {
				s.steady++
				s.pending = s.pending || a.IncidentID == ""
			}
		}
	}
	for _, c := range comps {
		if c.ManualStatus != "" {
			continue
		}
		s := byComp[c.ID]
		if s == nil {
			s = &state{worst: gateway.Operational}
		}
		_, maint := inMaintenance[c.ID]
		want := s.worst
		if maint {
			want = gateway.UnderMaintenance.Worse(s.worst)
		}
		public, isCovered := covered[c.ID]
		if c.Status != want && (!isCovered || public) {
			// (A component only drafts cover keeps its public status
			// until support publishes one.)
			tb.Errorf("%s shows %s, but its %d active alerts say %s", c.Name, c.Status, s.active, want)
		}
		red := c.Status != gateway.Operational && c.Status != gateway.UnderMaintenance
		var why gateway.Held
		switch {
		case !red || isCovered:
		case maint:
			why = gateway.HeldMaintenance
		case s.steady == 0:
			why = gateway.HeldFlapping
		case s.pending:
			why = gateway.HeldMinAlerts
		default:
			tb.Errorf("%s is %s by alerts that are all in incidents, none of them open", c.Name, c.Status)
			continue
		}
		if c.Held != why {
			tb.Errorf("%s is %s (covered by an open incident: %t), held = %q, want %q", c.Name, c.Status, isCovered, c.Held, why)
		}
	}
}

// coveredComponents returns the components of the open incidents (or
// maintenances in progress) of kind, each true when a published one
// covers it, false when only drafts do.
func coveredComponents(tb testing.TB, st *store.Store, kind string) map[string]bool {
	tb.Helper()
	ctx := context.Background()
	open, err := st.Incidents(ctx, store.IncidentFilter{Kind: kind, Status: "open", Limit: 1000})
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]bool{}
	for _, i := range open {
		if kind == gateway.KindMaintenance && !slices.Contains([]gateway.IncidentStatus{gateway.MaintenanceInProgress, gateway.MaintenanceVerifying}, i.Status) {
			continue
		}
		inc, err := st.Incident(ctx, i.ID)
		if err != nil {
			tb.Fatal(err)
		}
		for id := range inc.Components {
			out[id] = out[id] || inc.Published
		}
	}
	return out
}
