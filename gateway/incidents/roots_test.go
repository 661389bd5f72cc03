package incidents_test

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/correlate"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// dnsWorld is the seed page with DNS, which the ten modules and the app
// depend on, and group_by on the alerts' check label, which puts every
// alert in a group of its own: only the dependency graph can bring them
// together.
func dnsWorld(t *testing.T, st *store.Store, set correlate.Settings) *world {
	t.Helper()
	return dnsWorldWith(t, st, set, nil)
}

// dnsWorldWith is dnsWorld whose components' upstreams upstreams names
// instead of DNS alone.
func dnsWorldWith(t *testing.T, st *store.Store, set correlate.Settings, upstreams map[string][]string) *world {
	t.Helper()
	set.GroupBy = []string{"check"}
	return newWorldWith(t, st, set, func(d *store.Declaration) {
		for i := range d.Components {
			d.Components[i].DependsOn = []string{"DNS"}
			if ups, ok := upstreams[d.Components[i].Name]; ok {
				d.Components[i].DependsOn = ups
			}
		}
		d.Components = append(d.Components, store.DeclaredComponent{Name: "DNS", Position: 2})
		d.Rules = append(d.Rules, rule(t, "module=dns", "DNS"))
	})
}

func rootCause(t *testing.T, inc *gateway.Incident) gateway.RootCause {
	t.Helper()
	if inc.RootCause == nil {
		t.Fatalf("incident %q has no root cause", inc.Name)
	}
	return *inc.RootCause
}

// TestADNSFaultIsNamedAsTheCause replays the outage Herald exists for:
// one DNS fault takes down ten modules and one app. Their eleven alerts,
// each of a group of its own, make one incident named after DNS, the
// probable cause while DNS has no signal of its own; DNS's own alert then
// confirms it in the same incident. DNS recovers first: the module that
// still fails keeps its status and the incident until it recovers too.
// A second fault later makes a new incident with the cause again.
func TestADNSFaultIsNamedAsTheCause(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := dnsWorld(t, st, settings())
		box := w.subscribe()
		// Subscribers of one dependent each get the cause's incident's
		// messages, one per update, as the page's subscribers do.
		for _, s := range []struct{ address, component string }{
			{"space@example.com", "Space Module"}, {"app@example.com", "Hummingbird App"},
		} {
			storetest.AddSubscriber(t, st, storetest.Subscriber{Address: s.address, Components: []string{w.componentID(s.component)}})
		}
		expect := func(n int) {
			t.Helper()
			box.expect(n)
			for _, a := range []string{"space@example.com", "app@example.com"} {
				if got := box.mails(a); got != n {
					t.Errorf("%s received %d messages, want %d", a, got, n)
				}
			}
		}
		all := append(append([]string{}, modules...), "Hummingbird App")
		for _, c := range all {
			w.fire(c, "critical", gateway.AlertFiring)
			w.advance(2 * time.Second) // eleven alerts within group_wait (30 s)
		}
		inc := w.only()
		rc := rootCause(t, inc)
		if rc.Component.ID != w.componentID("DNS") || rc.Component.Name != "DNS" || !rc.Inferred {
			t.Errorf("root cause %+v, want DNS inferred", rc)
		}
		if inc.Name != "DNS: 11 components affected" || len(inc.Components) != 11 {
			t.Errorf("title %q over %d components, want \"DNS: 11 components affected\" over 11", inc.Name, len(inc.Components))
		}
		if _, ok := inc.Components[w.componentID("DNS")]; ok {
			t.Error("the inferred cause is among the incident's components")
		}
		if got := w.status("DNS"); got != gateway.Operational {
			t.Errorf("DNS = %s: inferring the cause changed its status", got)
		}
		if len(inc.Updates) != 1 || !strings.Contains(inc.Updates[0].Body, "DNS, the probable cause") ||
			len(inc.Updates[0].AffectedComponents) != 11 {
			t.Errorf("first update = %+v, want it to name DNS as the probable cause and cover eleven", inc.Updates)
		}
		for _, a := range inc.Updates[0].AffectedComponents {
			if a.OldStatus != gateway.Operational || a.NewStatus != gateway.MajorOutage {
				t.Errorf("first update reports %s %s → %s", a.Name, a.OldStatus, a.NewStatus)
			}
		}
		joined, err := st.IncidentAlerts(w.ctx, inc.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(joined) != 11 {
			t.Errorf("%d alerts in the incident, want 11", len(joined))
		}
		w.advance(30 * time.Second) // group_wait: one message for the storm
		expect(1)
		wantEvents(t, w.events(inc.ID), "incident.created")
		if ev := w.eventBody(inc.ID, "incident.created"); !strings.Contains(ev, "DNS: 11 components affected") {
			t.Errorf("the first message does not name the cause: %s", ev)
		}

		// DNS's own alert fires: it joins the same incident, and the cause
		// is confirmed.
		w.fire("DNS", "critical", gateway.AlertFiring)
		w.advance(time.Second)
		got := w.only()
		if got.ID != inc.ID {
			t.Fatalf("DNS's alert went to %s, want %s", got.ID, inc.ID)
		}
		if rc := rootCause(t, got); rc.Inferred || rc.Component.Name != "DNS" {
			t.Errorf("after DNS fired: root cause %+v, want DNS confirmed", rc)
		}
		if got.Name != "DNS: 11 components affected" || len(got.Components) != 12 {
			t.Errorf("after DNS fired: %q over %d components", got.Name, len(got.Components))
		}
		if w.status("DNS") != gateway.MajorOutage {
			t.Errorf("DNS = %s, want major_outage (its own alert)", w.status("DNS"))
		}
		if !strings.Contains(got.Updates[0].Body, "confirmed the cause: a problem with DNS") {
			t.Errorf("newest update %q, want the cause confirmed", got.Updates[0].Body)
		}
		w.advance(5 * time.Minute) // group_interval after the first message
		expect(2)
		wantEvents(t, w.events(inc.ID), "incident.created", "incident.updated")

		// DNS recovers first; the Space Module still fails.
		w.fire("DNS", "critical", gateway.AlertResolved)
		for _, c := range all[1:] {
			w.fire(c, "critical", gateway.AlertResolved)
		}
		w.advance(time.Second)
		got = w.only()
		if got.Status != gateway.Investigating || w.status("Space Module") != gateway.MajorOutage || w.status("DNS") != gateway.Operational {
			t.Errorf("with the Space Module failing: incident %s, Space Module %s, DNS %s", got.Status, w.status("Space Module"), w.status("DNS"))
		}
		if _, ok := got.Components[w.componentID("Space Module")]; !ok {
			t.Error("the Space Module left the incident")
		}
		w.advance(10 * time.Minute)
		if got = w.only(); got.Status != gateway.Investigating {
			t.Errorf("resolution suppressed: %s while the Space Module fails", got.Status)
		}
		w.fire("Space Module", "critical", gateway.AlertResolved)
		w.advance(time.Second)
		expect(3) // monitoring
		w.advance(15 * time.Minute)
		if got = w.only(); got.Status != gateway.Resolved {
			t.Fatalf("after resolve_after: %s", got.Status)
		}
		expect(4) // resolved

		// A second fault: a new incident, the cause inferred again.
		w.advance(10 * time.Minute)
		for _, c := range all {
			w.fire(c, "critical", gateway.AlertFiring)
			w.advance(2 * time.Second)
		}
		open := w.openIncidents()
		if len(open) != 1 || open[0].ID == inc.ID {
			t.Fatalf("open incidents after the second fault: %+v, want one new one", open)
		}
		second, err := st.Incident(w.ctx, open[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if rc := rootCause(t, second); !rc.Inferred || rc.Component.Name != "DNS" || second.Name != "DNS: 11 components affected" {
			t.Errorf("second incident %q, root cause %+v", second.Name, rc)
		}
		w.advance(30 * time.Second)
		expect(5)
		if n := len(w.incidents()); n != 2 {
			t.Errorf("%d incidents in all, want 2", n)
		}
		w.noComponentEvents()
	})
}

// TestTooFewDependentsNameNoCause fires two of DNS's dependents, fewer
// than infer_upstream_min: group_by decides, as without dependencies.
func TestTooFewDependentsNameNoCause(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := dnsWorld(t, st, settings())
		w.fire("Space Module", "critical", gateway.AlertFiring)
		w.advance(2 * time.Second)
		w.fire("Move Module", "critical", gateway.AlertFiring)
		w.advance(2 * time.Second)
		list := w.incidents()
		if len(list) != 2 {
			t.Fatalf("%d incidents, want one per check (group_by)", len(list))
		}
		names := map[string]bool{}
		for _, inc := range list {
			if inc.RootCause != nil {
				t.Errorf("%q has root cause %+v", inc.Name, inc.RootCause)
			}
			names[inc.Name] = true
		}
		if !names["Major outage: Space Module"] || !names["Major outage: Move Module"] {
			t.Errorf("titles %v", names)
		}
	})
}

// TestALatePassSeesTheStormAsItHappened fires the first module alone, and
// a pass opens its incident; three more dependents fire a few seconds
// later, well inside its group_wait, but the next pass runs only after
// group_wait has passed (a stalled or restarted process: the incident's
// notify timer is due by then too, and fires after the pass). Their
// alerts and the first incident fired within group_wait of each other,
// so the pass sees what a timely one would: DNS is the probable cause,
// and the first incident, not announced yet, becomes its one incident,
// announced once. Measured from when the pass ran instead, the first
// incident looked too old to take in and the outage made two incidents.
func TestALatePassSeesTheStormAsItHappened(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := dnsWorld(t, st, settings())
		box := w.subscribe()
		w.fire("Space Module", "critical", gateway.AlertFiring)
		w.advance(time.Second)
		first := w.only()
		late := []string{"Move Module", "Reservation Module", "Service Request Module"}
		for _, c := range late {
			w.mu.Lock()
			w.now = w.now.Add(2 * time.Second) // no pass runs meanwhile
			w.mu.Unlock()
			w.fire(c, "critical", gateway.AlertFiring)
		}
		w.advance(45 * time.Second) // past group_wait (30 s): the pass and the notify timer at once
		inc := w.only()
		if inc.ID != first.ID {
			t.Errorf("the cause's incident is %s, want the first one, %s, whose address stays valid", inc.ID, first.ID)
		}
		if rc := rootCause(t, inc); !rc.Inferred || rc.Component.Name != "DNS" {
			t.Errorf("root cause %+v, want DNS inferred", rc)
		}
		if inc.Name != "DNS: 4 components affected" || len(inc.Components) != 4 {
			t.Errorf("%q over %d components, want \"DNS: 4 components affected\" over 4", inc.Name, len(inc.Components))
		}
		box.expect(1)
		wantEvents(t, w.events(inc.ID), "incident.created")
		if ev := w.eventBody(inc.ID, "incident.created"); !strings.Contains(ev, "DNS: 4 components affected") {
			t.Errorf("the first message does not name the cause: %s", ev)
		}
	})
}

// TestInferUpstreamMinIsASetting lowers infer_upstream_min to 2: two
// dependents are enough.
func TestInferUpstreamMinIsASetting(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		set := settings()
		set.InferUpstreamMin = 2
		w := dnsWorld(t, st, set)
		w.fire("Space Module", "critical", gateway.AlertFiring)
		w.advance(2 * time.Second)
		w.fire("Move Module", "critical", gateway.AlertFiring)
		w.advance(2 * time.Second)
		inc := w.only()
		if rc := rootCause(t, inc); !rc.Inferred || inc.Name != "DNS: 2 components affected" {
			t.Errorf("%q, root cause %+v", inc.Name, rc)
		}
	})
}

// TestDependentsJoinTheirFiringUpstream lets DNS fire first, alone, then
// two modules: they join DNS's incident whatever group_by says, and it
// names DNS as the confirmed cause.
func TestDependentsJoinTheirFiringUpstream(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := dnsWorld(t, st, settings())
		box := w.subscribe()
		w.fire("DNS", "critical", gateway.AlertFiring)
		w.advance(time.Second) // opened
		w.advance(time.Minute) // and announced on its own
		box.expect(1)
		w.fire("Space Module", "critical", gateway.AlertFiring)
		w.fire("Move Module", "warning", gateway.AlertFiring)
		w.advance(time.Second)
		inc := w.only()
		if rc := rootCause(t, inc); rc.Inferred || rc.Component.Name != "DNS" {
			t.Errorf("root cause %+v, want DNS confirmed", rc)
		}
		if inc.Name != "DNS: 2 components affected" || len(inc.Components) != 3 {
			t.Errorf("%q over %d components", inc.Name, len(inc.Components))
		}
		w.advance(5 * time.Minute)
		box.expect(2) // one update for the two that joined
		if got := w.status("Move Module"); got != gateway.DegradedPerformance {
			t.Errorf("Move Module = %s, want its own alert's degraded_performance", got)
		}
	})
}

// TestTheCauseFiringInsideGroupWaitRewritesTheFirstUpdate: DNS's own
// alert arrives before the first message went out; the cause is
// confirmed in that first message, and nothing else is sent.
func TestTheCauseFiringInsideGroupWaitRewritesTheFirstUpdate(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := dnsWorld(t, st, settings())
		for _, c := range modules[:3] {
			w.fire(c, "critical", gateway.AlertFiring)
			w.advance(2 * time.Second)
		}
		if rc := rootCause(t, w.only()); !rc.Inferred {
			t.Fatalf("three dependents: root cause %+v, want inferred", rc)
		}
		w.fire("DNS", "critical", gateway.AlertFiring)
		w.advance(2 * time.Second)
		inc := w.only()
		if rc := rootCause(t, inc); rc.Inferred {
			t.Errorf("DNS fired: root cause %+v, want confirmed", rc)
		}
		if inc.Name != "DNS: 3 components affected" || len(inc.Updates) != 1 ||
			!strings.Contains(inc.Updates[0].Body, "a problem with DNS, which affects Space Module, Move Module and Reservation Module") {
			t.Errorf("%q with updates %+v", inc.Name, inc.Updates)
		}
		w.advance(30 * time.Second)
		wantEvents(t, w.events(inc.ID), "incident.created")
	})
}

// TestTheAppFollowsTheModuleItDependsOn: as in docs/probes.md, the
// Hummingbird App depends on DNS and on the Space Module. The Space
// Module fails first; the app's alert must not make an incident of the
// Space Module's own: all eleven go to DNS's.
func TestTheAppFollowsTheModuleItDependsOn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := dnsWorldWith(t, st, settings(), map[string][]string{"Hummingbird App": {"DNS", "Space Module"}})
		order := append([]string{"Space Module", "Hummingbird App"}, modules[1:]...)
		for _, c := range order {
			w.fire(c, "critical", gateway.AlertFiring)
			w.advance(2 * time.Second)
		}
		inc := w.only()
		if rc := rootCause(t, inc); rc.Component.Name != "DNS" || inc.Name != "DNS: 11 components affected" {
			t.Errorf("%q, root cause %+v", inc.Name, rc)
		}
	})
}

// TestAStormJoinsItsCauseAcrossParts: 700 alerts on the Space Module and
// two on other modules, more than one transaction of a pass takes: every
// part puts its alerts into the one incident of DNS, the inferred cause.
func TestAStormJoinsItsCauseAcrossParts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := dnsWorld(t, st, settings())
		w.storm(700)
		w.fire("Move Module", "critical", gateway.AlertFiring)
		w.fire("Reservation Module", "critical", gateway.AlertFiring)
		w.advance(time.Second)
		inc := w.only()
		if rc := rootCause(t, inc); !rc.Inferred || inc.Name != "DNS: 3 components affected" {
			t.Errorf("%q, root cause %+v", inc.Name, rc)
		}
		joined, err := st.IncidentAlerts(w.ctx, inc.ID, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(joined) != 702 {
			t.Errorf("the incident has %d alerts, want 702", len(joined))
		}
	})
}
