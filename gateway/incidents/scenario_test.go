package incidents_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestSeedOutageBecomesOneIncident replays the seed: eleven components
// fail within a minute; Herald opens one incident, holds the first message
// for group_wait so the storm arrives in it, then follows the alerts to
// monitoring and resolved.
func TestSeedOutageBecomesOneIncident(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		set := settings()
		set.GroupWait = 90 * time.Second
		w := newWorld(t, st, set)
		all := append(append([]string{}, modules...), "Hummingbird App")
		for i, c := range all {
			sev := "critical"
			if c == "Hummingbird App" {
				sev = "warning"
			}
			w.fire(c, sev, gateway.AlertFiring)
			w.advance(5 * time.Second) // eleven alerts over 55 s
			if i == 0 {
				inc := w.only()
				if inc.Status != gateway.Investigating || !inc.Automated || !inc.Published {
					t.Fatalf("first alert opened %+v", inc)
				}
			}
		}
		inc := w.only()
		if len(inc.Components) != 11 {
			t.Fatalf("incident covers %d components, want 11", len(inc.Components))
		}
		if inc.Name != "Major outage: Space Module, Move Module and 9 more" || inc.Impact != gateway.ImpactCritical {
			t.Errorf("title %q impact %s", inc.Name, inc.Impact)
		}
		if got := w.status("Space Module"); got != gateway.MajorOutage {
			t.Errorf("Space Module = %s, want major_outage", got)
		}
		if got := w.status("Hummingbird App"); got != gateway.DegradedPerformance {
			t.Errorf("Hummingbird App = %s, want degraded_performance (warning)", got)
		}
		wantEvents(t, w.events(inc.ID)) // still inside group_wait: nothing sent
		if len(inc.Updates) != 1 || !strings.Contains(inc.Updates[0].Body, "Space Module, Move Module and 9 more") ||
			len(inc.Updates[0].AffectedComponents) != 11 {
			t.Errorf("first update = %+v, want it rewritten to cover all eleven", inc.Updates)
		}

		w.advance(40 * time.Second) // group_wait ends: one message for the whole storm
		wantEvents(t, w.events(inc.ID), "incident.created")

		// The Copy Module's check flaps while engineers restart nodes: its
		// component holds at major_outage and no update goes out for it.
		for i := 0; i < 3; i++ {
			w.fire("Copy Module", "critical", gateway.AlertResolved)
			w.advance(10 * time.Second)
			w.fire("Copy Module", "critical", gateway.AlertFiring)
			w.advance(10 * time.Second)
		}
		w.fire("Copy Module", "critical", gateway.AlertResolved)
		w.advance(10 * time.Second)
		if got := w.status("Copy Module"); got != gateway.MajorOutage {
			t.Errorf("flapping Copy Module = %s, want it held at major_outage", got)
		}
		wantEvents(t, w.events(inc.ID), "incident.created")
		w.advance(30 * time.Minute) // it settles (quiet for a flap window); the rest still fires
		if got := w.status("Copy Module"); got != gateway.Operational {
			t.Errorf("settled Copy Module = %s, want operational", got)
		}
		if inc = w.only(); inc.Status != gateway.Investigating {
			t.Fatalf("while ten components still fail: %s", inc.Status)
		}

		// Everything recovers: monitoring at once, components operational.
		for _, c := range all {
			w.fire(c, "critical", gateway.AlertResolved)
		}
		w.advance(time.Second)
		inc = w.only()
		if inc.Status != gateway.Monitoring || w.status("Space Module") != gateway.Operational {
			t.Fatalf("after recovery: %s, Space Module %s", inc.Status, w.status("Space Module"))
		}
		// group_interval has long passed since the first message: the
		// monitoring update goes out at once.
		wantEvents(t, w.events(inc.ID), "incident.created", "incident.updated")

		// Quiet for resolve_after: resolved, and it stops taking alerts.
		w.advance(15 * time.Minute)
		inc = w.only()
		if inc.Status != gateway.Resolved || inc.ResolvedAt.IsZero() {
			t.Fatalf("after resolve_after: %s", inc.Status)
		}
		wantEvents(t, w.events(inc.ID), "incident.created", "incident.updated", "incident.resolved")

		// The status history records each change with its time.
		changes := storetest.MustCount(t, st, "SELECT COUNT(*) FROM component_status_changes")
		// 11 down and 11 up, plus the Copy Module's first four flips: they
		// were real changes until the fifth made it flapping (flap.changes 4).
		if changes != 26 {
			t.Errorf("%d status changes recorded, want 26 (11 down, 4 flips, 11 up)", changes)
		}
	})
}

func TestRefireWhileMonitoringReopensTheSameIncident(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		w.fire("Space Module", "critical", gateway.AlertFiring)
		w.advance(time.Minute)
		w.fire("Space Module", "critical", gateway.AlertResolved)
		w.advance(time.Second)
		if inc := w.only(); inc.Status != gateway.Monitoring {
			t.Fatalf("status %s, want monitoring", inc.Status)
		}
		w.advance(time.Minute)
		w.fire("Space Module", "critical", gateway.AlertFiring)
		w.advance(time.Second)
		inc := w.only() // the same incident, not a second one
		if inc.Status != gateway.Investigating || w.status("Space Module") != gateway.MajorOutage {
			t.Errorf("after a re-fire: %s, Space Module %s", inc.Status, w.status("Space Module"))
		}
		// resolve_after was cancelled: nothing resolves while it fires.
		w.advance(20 * time.Minute)
		if inc := w.only(); inc.Status != gateway.Investigating {
			t.Errorf("resolved while firing: %s", inc.Status)
		}
	})
}

func TestManualUpdateStopsAutomation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		w.fire("Space Module", "critical", gateway.AlertFiring)
		w.advance(time.Minute)
		inc := w.only()
		support := gateway.Principal{Kind: "api_key", Name: "support-key", Role: gateway.RoleSupport}
		next := w.clock().Add(time.Hour)
		_, err := w.svc.PostUpdate(w.ctx, support, inc.ID, incidents.NewUpdate{Status: gateway.Identified, Notify: true,
			Body: "Our incident response team has identified the issue. Next update at 10:50am CST.", NextUpdateAt: next})
		if err != nil {
			t.Fatal(err)
		}
		w.fire("Space Module", "critical", gateway.AlertResolved)
		w.advance(20 * time.Minute)
		inc = w.only()
		if inc.Status != gateway.Identified || inc.Updates[0].Author != "support-key" {
			for _, u := range inc.Updates {
				t.Logf("update %s %s %s %q", u.CreatedAt, u.Author, u.Status, u.Body)
			}
			t.Errorf("automation wrote over support: %s, newest update by %s", inc.Status, inc.Updates[0].Author)
		}
		if got := w.status("Space Module"); got != gateway.Operational {
			t.Errorf("automation stopped tracking components: %s", got)
		}
		// Support posted while the automatic first message was still held
		// back (group_wait): its words are the first message, and the held
		// one is not sent at all.
		wantEvents(t, w.events(inc.ID), "incident.created")
		if ev := w.eventBody(inc.ID, "incident.created"); !strings.Contains(ev, "identified the issue") {
			t.Errorf("the first message does not carry support's words: %s", ev)
		}

		// The promised update does not come: a reminder.
		w.advance(time.Hour)
		wantEvents(t, w.events(inc.ID), "incident.created", "incident.update_due")

		// Support resolves; then writes the postmortem.
		w.advance(time.Minute)
		if _, err := w.svc.PostUpdate(w.ctx, support, inc.ID, incidents.NewUpdate{Status: gateway.Resolved, Body: "All clear.", Notify: true}); err != nil {
			t.Fatal(err)
		}
		w.advance(time.Minute)
		for range 2 { // the second time as a double click or a retry: sent once
			if _, err := w.svc.Postmortem(w.ctx, support, inc.ID, "## Root cause\nDNS.", true); err != nil {
				t.Fatal(err)
			}
		}
		wantEvents(t, w.events(inc.ID), "incident.created", "incident.update_due", "incident.resolved", "incident.postmortem")
		if inc = w.only(); inc.Status != gateway.Postmortem || inc.PostmortemBody == "" {
			t.Errorf("after postmortem: %+v", inc)
		}
	})
}

func TestManualIncidentSetsComponentStatuses(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		support := gateway.Principal{Kind: "api_key", Name: "support-key", Role: gateway.RoleSupport}
		inc, err := w.svc.Create(w.ctx, support, incidents.NewIncident{Name: "Login problems", Status: gateway.Investigating,
			Body: "iOFFICE is currently investigating an issue with customers site access.", Notify: true,
			Components: map[string]gateway.ComponentStatus{"Hummingbird App": gateway.PartialOutage}})
		if err != nil {
			t.Fatal(err)
		}
		if w.status("Hummingbird App") != gateway.PartialOutage || inc.Impact != gateway.ImpactMajor {
			t.Errorf("manual incident: app %s, impact %s", w.status("Hummingbird App"), inc.Impact)
		}
		wantEvents(t, w.events(inc.ID), "incident.created")
		// No component.status_changed on its own: the incident covers it.
		solo := storetest.MustCount(t, st, "SELECT COUNT(*) FROM events WHERE type = 'component.status_changed'")
		if solo != 0 {
			t.Errorf("%d component.status_changed events for a covered change", solo)
		}
		if _, err := w.svc.PostUpdate(w.ctx, support, inc.ID, incidents.NewUpdate{Status: gateway.Resolved, Body: "Fixed.", Notify: false}); err != nil {
			t.Fatal(err)
		}
		if w.status("Hummingbird App") != gateway.Operational {
			t.Errorf("resolving did not hand the component back to alerts: %s", w.status("Hummingbird App"))
		}
		wantEvents(t, w.events(inc.ID), "incident.created") // notify: false
		// Bad input is refused with the field named.
		_, err = w.svc.Create(w.ctx, support, incidents.NewIncident{Name: "x", Status: "broken", Body: "x"})
		if gateway.ErrorCode(err) != gateway.EUNPROCESSABLE || !strings.Contains(err.Error(), "status") {
			t.Errorf("bad status: %v", err)
		}
		_, err = w.svc.Create(w.ctx, support, incidents.NewIncident{Name: "x", Status: gateway.Investigating, Body: "x",
			Components: map[string]gateway.ComponentStatus{"Nope": gateway.MajorOutage}})
		if gateway.ErrorCode(err) != gateway.EUNPROCESSABLE || !strings.Contains(err.Error(), "components.Nope") {
			t.Errorf("unknown component: %v", err)
		}
	})
}

func TestMaintenanceSuppressesIncidents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		support := gateway.Principal{Kind: "api_key", Name: "support-key", Role: gateway.RoleSupport}
		m, err := w.svc.Schedule(w.ctx, support, incidents.NewMaintenance{Name: "Database upgrade", Body: "We are upgrading.",
			Components: []string{"Hummingbird App"}, ScheduledFor: t0.Add(10 * time.Minute), ScheduledUntil: t0.Add(70 * time.Minute),
			AutoTransition: true, Notify: true})
		if err != nil {
			t.Fatal(err)
		}
		wantEvents(t, w.events(m.ID), "maintenance.scheduled")
		w.advance(10 * time.Minute)
		if got := w.status("Hummingbird App"); got != gateway.UnderMaintenance {
			t.Fatalf("at start: %s", got)
		}
		wantEvents(t, w.events(m.ID), "maintenance.scheduled", "maintenance.started")
		w.fire("Hummingbird App", "warning", gateway.AlertFiring) // expected during the upgrade
		w.advance(time.Minute)
		if n := len(w.incidents()); n != 0 {
			t.Errorf("an alert under maintenance opened %d incidents", n)
		}
		w.fire("Hummingbird App", "warning", gateway.AlertResolved)
		w.advance(time.Hour)
		wantEvents(t, w.events(m.ID), "maintenance.scheduled", "maintenance.started", "maintenance.completed")
		if got := w.status("Hummingbird App"); got != gateway.Operational {
			t.Errorf("after the window: %s", got)
		}
	})
}

// TestMaintenanceWithoutAutoTransitionWaitsForSupport lets the clock run
// through a maintenance scheduled without auto_transition, and past it:
// nothing starts or completes by itself, its component keeps its status,
// and no notice goes out; the window is support's to run.
func TestMaintenanceWithoutAutoTransitionWaitsForSupport(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		support := gateway.Principal{Kind: "api_key", Name: "support-key", Role: gateway.RoleSupport}
		m, err := w.svc.Schedule(w.ctx, support, incidents.NewMaintenance{Name: "Database upgrade", Body: "We are upgrading.",
			Components: []string{"Hummingbird App"}, ScheduledFor: t0.Add(10 * time.Minute), ScheduledUntil: t0.Add(70 * time.Minute),
			AutoTransition: false, Notify: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range []struct {
			name string
			by   time.Duration
		}{
			{"before the window", 5 * time.Minute},
			{"at its start", 5 * time.Minute},
			{"inside it", 30 * time.Minute},
			{"at its end", 30 * time.Minute},
			{"a day after it", 24 * time.Hour},
		} {
			w.advance(step.by)
			got, err := st.Incident(w.ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != gateway.MaintenanceScheduled || len(got.Updates) != 1 {
				t.Errorf("%s: %s with %d updates, want still scheduled with 1", step.name, got.Status, len(got.Updates))
			}
			if s := w.status("Hummingbird App"); s != gateway.Operational {
				t.Errorf("%s: component %s, want operational", step.name, s)
			}
			wantEvents(t, w.events(m.ID), "maintenance.scheduled")
		}
		if n := storetest.MustCount(t, st, `SELECT COUNT(*) FROM timers WHERE ref_id = ?`, m.ID); n != 0 {
			t.Errorf("%d timers left for a maintenance without auto_transition", n)
		}
	})
}

func TestDraftsWaitForSupport(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		set := settings()
		set.Draft = true
		w := newWorld(t, st, set)
		w.fire("Space Module", "critical", gateway.AlertFiring)
		w.advance(time.Minute)
		inc := w.only()
		if inc.Published {
			t.Fatal("publish: draft made a public incident")
		}
		wantEvents(t, w.events(inc.ID))
		if _, err := w.svc.Publish(w.ctx, gateway.Principal{Name: "support-key"}, inc.ID); err != nil {
			t.Fatal(err)
		}
		wantEvents(t, w.events(inc.ID), "incident.created")
	})
}

func TestMinAlertsAndFlapping(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		set := settings()
		set.MinAlerts = 2
		w := newWorld(t, st, set)
		w.fire("Space Module", "critical", gateway.AlertFiring)
		w.advance(time.Minute)
		if n := len(w.incidents()); n != 0 {
			t.Fatalf("one alert opened %d incidents with min_alerts 2", n)
		}
		if got := w.status("Space Module"); got != gateway.MajorOutage {
			t.Errorf("the component does not show its alert: %s", got)
		}
		w.fire("Move Module", "critical", gateway.AlertFiring)
		w.advance(time.Second)
		if inc := w.only(); len(inc.Components) != 2 {
			t.Errorf("second alert: incident covers %d components", len(inc.Components))
		}
	})
}

// TestConcurrentAlertsOpenOneIncident posts alerts of one group in
// parallel and reconciles from several goroutines at once.
func TestConcurrentAlertsOpenOneIncident(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		var wg sync.WaitGroup
		for _, c := range modules {
			wg.Add(1)
			go func() { defer wg.Done(); w.fire(c, "critical", gateway.AlertFiring) }()
		}
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := w.service("r" + string(rune('a'+i))).Reconcile(w.ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if err := w.svc.Reconcile(w.ctx); err != nil {
			t.Fatal(err)
		}
		if inc := w.only(); len(inc.Components) != 10 {
			t.Errorf("incident covers %d components, want 10", len(inc.Components))
		}
	})
}

// TestTimersSurviveRestartsAndFireOnce opens an incident, "restarts" in the
// middle of group_wait (a new service with another owner), and lets two
// services tick at once: the first message is written once.
func TestTimersSurviveRestartsAndFireOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		w.fire("Space Module", "critical", gateway.AlertFiring)
		w.advance(10 * time.Second) // opened; group_wait runs
		inc := w.only()
		w.svc = w.service("after-restart")
		other := w.service("second-replica")
		w.mu.Lock()
		w.now = w.now.Add(35 * time.Second)
		w.mu.Unlock()
		var wg sync.WaitGroup
		for _, s := range []*incidents.Service{w.svc, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 3; i++ {
					if _, err := s.Tick(w.ctx); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		wantEvents(t, w.events(inc.ID), "incident.created")
	})
}

// TestFlappingHoldsTheWorseState flaps one alert: after more than
// flap.changes changes it holds its component at the worse state and the
// incident stays put (no monitoring, no new updates) until it settles.
func TestFlappingHoldsTheWorseState(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		w.fire("Space Module", "critical", gateway.AlertFiring)
		w.advance(2 * time.Minute) // opened and announced
		for i := 0; i < 3; i++ {   // six more changes within minutes
			w.fire("Space Module", "critical", gateway.AlertResolved)
			w.advance(20 * time.Second)
			w.fire("Space Module", "critical", gateway.AlertFiring)
			w.advance(20 * time.Second)
		}
		w.fire("Space Module", "critical", gateway.AlertResolved)
		w.advance(time.Second)
		inc := w.only()
		updates := len(inc.Updates)
		if got := w.status("Space Module"); got != gateway.MajorOutage {
			t.Errorf("a flapping alert's component = %s, want it held at major_outage", got)
		}
		w.advance(10 * time.Minute)
		if inc = w.only(); inc.Status == gateway.Monitoring || inc.Status == gateway.Resolved || len(inc.Updates) != updates {
			t.Errorf("the incident moved while its alert flapped: %s, %d updates (was %d)", inc.Status, len(inc.Updates), updates)
		}
		// Quiet for a whole flap window: it settles, and the incident moves on.
		w.advance(25 * time.Minute)
		if got := w.status("Space Module"); got != gateway.Operational {
			t.Errorf("after settling: Space Module %s", got)
		}
		if inc = w.only(); inc.Status != gateway.Monitoring {
			t.Errorf("after settling: incident %s, want monitoring", inc.Status)
		}
	})
}

// TestLateJoinersShareOneUpdate lets components join after the first
// message, one per reconcile pass: they collect in one timeline update,
// announced once when group_interval allows.
func TestLateJoinersShareOneUpdate(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		set := settings()
		set.GroupWait = 5 * time.Second
		w := newWorld(t, st, set)
		w.fire("Space Module", "critical", gateway.AlertFiring)
		w.advance(time.Second)     // opened
		w.advance(6 * time.Second) // group_wait over: announced
		wantEvents(t, w.events(w.only().ID), "incident.created")
		for _, c := range modules[1:4] {
			w.fire(c, "critical", gateway.AlertFiring)
			w.advance(2 * time.Second) // a pass each
		}
		inc := w.only()
		if len(inc.Updates) != 2 || !strings.Contains(inc.Updates[0].Body, "Move Module, Reservation Module and Service Request Module") {
			for _, u := range inc.Updates {
				t.Logf("%s %q", u.Status, u.Body)
			}
			t.Fatalf("%d updates, want the first and one for the three that joined", len(inc.Updates))
		}
		w.advance(5 * time.Minute)
		wantEvents(t, w.events(inc.ID), "incident.created", "incident.updated")
	})
}

// TestAStormJoinsInOnePass posts one Alertmanager group of 700 alerts on
// one component, more than one multi-row statement holds on either store,
// and more than one transaction of a pass takes on either, and checks that
// one reconcile pass puts every one of them into the one incident, each
// recorded as joining once.
func TestAStormJoinsInOnePass(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		const n = 700
		w.storm(n)
		w.tick()
		inc := w.only()
		joined, err := st.IncidentAlerts(w.ctx, inc.ID, 2*n)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, a := range joined {
			seen[a.Fingerprint] = true
		}
		if len(joined) != n || len(seen) != n {
			t.Errorf("the incident has %d joined alerts (%d distinct), want %d", len(joined), len(seen), n)
		}
		pending, err := st.Alerts(w.ctx, store.AlertFilter{Status: gateway.AlertFiring, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range pending {
			if a.IncidentID != inc.ID {
				t.Fatalf("alert %s is in incident %q, want %s", a.Fingerprint, a.IncidentID, inc.ID)
			}
		}
	})
}

// TestMinAlertsCountsAWholeStorm sets min_alerts above what one
// transaction of a pass takes: the pass counts the whole group, not its
// part of it, and opens one incident for all of it.
func TestMinAlertsCountsAWholeStorm(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		set := settings()
		set.MinAlerts = 600
		w := newWorld(t, st, set)
		w.storm(700)
		w.tick()
		inc := w.only()
		joined, err := st.IncidentAlerts(w.ctx, inc.ID, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(joined) != 700 {
			t.Errorf("the incident has %d joined alerts, want 700", len(joined))
		}
	})
}

// storm posts n firing alerts of one group on the first module in one
// Alertmanager request.
func (w *world) storm(n int) {
	w.t.Helper()
	now := w.clock()
	alerts := make([]any, n)
	for i := range alerts {
		alerts[i] = map[string]any{"status": "firing",
			"labels":   map[string]string{"alertname": "ServiceDown", "module": slug(modules[0]), "instance": fmt.Sprintf("web-%03d", i)},
			"startsAt": now.Format(time.RFC3339Nano), "endsAt": "0001-01-01T00:00:00Z", "fingerprint": fmt.Sprintf("storm-%03d", i)}
	}
	body, err := json.Marshal(map[string]any{"version": "4", "status": "firing", "receiver": "herald", "alerts": alerts})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.in.Ingest(w.ctx, w.src, body, "application/json", now); err != nil {
		w.t.Fatal(err)
	}
}

// TestAnUpdatePostsOncePerKey declares an incident three times at once
// with one idempotency key, then posts one update with a key three times,
// two of them at once (a double click and a retry): one incident, one
// update and one message each. The same key with other words is refused rather
// than dropped in silence.
func TestAnUpdatePostsOncePerKey(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		support := gateway.Principal{Kind: "user", Name: "Dana", Role: gateway.RoleSupport}
		declare := incidents.NewIncident{Name: "Booking is slow", Status: gateway.Investigating, IdempotencyKey: "declare-1",
			Body: "We are looking into it.", Notify: true, Components: map[string]gateway.ComponentStatus{"Space Module": gateway.DegradedPerformance}}
		var declared [3]*gateway.Incident
		var wg sync.WaitGroup
		for i := range declared {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				if declared[i], err = w.svc.Create(w.ctx, support, declare); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		inc := w.only()
		for _, d := range declared {
			if d.ID != inc.ID {
				t.Errorf("a repeated declaration answered %s, want %s", d.ID, inc.ID)
			}
		}
		w.advance(time.Minute)
		up := incidents.NewUpdate{Status: gateway.Identified, Body: "The cause is a DNS fault.", Notify: true, IdempotencyKey: "form-1"}
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := w.svc.PostUpdate(w.ctx, support, inc.ID, up); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if _, err := w.svc.PostUpdate(w.ctx, support, inc.ID, up); err != nil {
			t.Fatal(err)
		}
		other := up
		other.Body = "Something else."
		if _, err := w.svc.PostUpdate(w.ctx, support, inc.ID, other); gateway.ErrorCode(err) != gateway.ECONFLICT {
			t.Errorf("the same key with other words: err = %v, want conflict", err)
		}
		got := w.only()
		if len(got.Updates) != 2 {
			t.Errorf("%d updates, want 2 (the first and one identified)", len(got.Updates))
		}
		wantEvents(t, w.events(inc.ID), "incident.created", "incident.updated")
		// Another key posts another update.
		up.IdempotencyKey = "form-2"
		if _, err := w.svc.PostUpdate(w.ctx, support, inc.ID, up); err != nil {
			t.Fatal(err)
		}
		wantEvents(t, w.events(inc.ID), "incident.created", "incident.updated", "incident.updated")
	})
}

// TestAMaintenanceIsScheduledOncePerKey schedules one maintenance three
// times at once with one key (a double click and a retry racing on
// PostgreSQL's unique key): one maintenance, one scheduled notice, and
// every request answered with it.
func TestAMaintenanceIsScheduledOncePerKey(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		support := gateway.Principal{Kind: "user", Name: "Dana", Role: gateway.RoleSupport}
		in := incidents.NewMaintenance{Name: "Database upgrade", Body: "We are upgrading.", Components: []string{"Space Module"},
			ScheduledFor: t0.Add(time.Hour), ScheduledUntil: t0.Add(2 * time.Hour), Notify: true, IdempotencyKey: "form-1"}
		var got [3]*gateway.Incident
		var wg sync.WaitGroup
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				if got[i], err = w.svc.Schedule(w.ctx, support, in); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		list, err := st.Incidents(w.ctx, store.IncidentFilter{Kind: gateway.KindMaintenance})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Fatalf("%d maintenances, want 1", len(list))
		}
		for _, m := range got {
			if m.ID != list[0].ID {
				t.Errorf("a repeated request answered %s, want %s", m.ID, list[0].ID)
			}
		}
		wantEvents(t, w.events(list[0].ID), "maintenance.scheduled")
		// Another key schedules another.
		in.IdempotencyKey = "form-2"
		if m, err := w.svc.Schedule(w.ctx, support, in); err != nil || m.ID == list[0].ID {
			t.Errorf("another key: %v, %v", m, err)
		}
	})
}

// TestResolvingTwiceSendsOnce resolves one incident three times at once
// (two people and a retry), then once more: one resolved update, one
// resolved message.
func TestResolvingTwiceSendsOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		support := gateway.Principal{Kind: "user", Name: "Dana", Role: gateway.RoleSupport}
		inc, err := w.svc.Create(w.ctx, support, incidents.NewIncident{Name: "Booking is slow", Status: gateway.Investigating,
			Body: "We are looking into it.", Notify: true, Components: map[string]gateway.ComponentStatus{"Space Module": gateway.DegradedPerformance}})
		if err != nil {
			t.Fatal(err)
		}
		w.advance(time.Minute)
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := w.svc.Resolve(w.ctx, support, inc.ID, incidents.NewUpdate{Body: "Fixed.", Notify: true}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if _, err := w.svc.Resolve(w.ctx, support, inc.ID, incidents.NewUpdate{Body: "Fixed, really.", Notify: true}); err != nil {
			t.Fatal(err)
		}
		got := w.only()
		if got.Status != gateway.Resolved || len(got.Updates) != 2 {
			t.Errorf("%s with %d updates, want resolved with 2", got.Status, len(got.Updates))
		}
		wantEvents(t, w.events(inc.ID), "incident.created", "incident.resolved")
	})
}
