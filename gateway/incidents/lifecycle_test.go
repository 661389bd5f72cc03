package incidents_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/notify/email"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/internal/mailsink"
	"github.com/heraldstatus/herald/templates"
)

// inboxes are two subscribers of the whole page, one by email and one by
// webhook, served by Herald's real delivery path: the dispatcher, the SMTP
// channel to an in-process sink, the webhook channel to an httptest
// receiver.
type inboxes struct {
	w     *world
	sink  *mailsink.Sink
	mu    sync.Mutex
	hooks []string // the event type of each webhook received, by its body
}

// subscribe adds the two subscribers and runs a dispatcher until the test
// ends.
func (w *world) subscribe() *inboxes {
	w.t.Helper()
	in := &inboxes{w: w, sink: mailsink.Start(w.t, mailsink.Options{Keep: mailsink.KeepEnvelope})}
	recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			rw.WriteHeader(http.StatusBadRequest)
			return
		}
		kind := "component"
		if _, ok := body["incident"]; ok {
			kind = "incident"
		}
		in.mu.Lock()
		in.hooks = append(in.hooks, kind)
		in.mu.Unlock()
	}))
	w.t.Cleanup(recv.Close)
	storetest.AddSubscriber(w.t, w.st, storetest.Subscriber{Address: "ops@example.com", All: true})
	storetest.AddSubscriber(w.t, w.st, storetest.Subscriber{Kind: gateway.SubscriberWebhook, Address: recv.URL + "/hook", All: true})

	set, err := templates.Load("")
	if err != nil {
		w.t.Fatal(err)
	}
	b, err := email.NewBuilder(email.Options{From: "Status <status@example.com>", Templates: set})
	if err != nil {
		w.t.Fatal(err)
	}
	mail, err := email.NewSMTP(b, email.SMTPOptions{URL: in.sink.URL()})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { _ = mail.Close() })
	hook, err := webhook.New(webhook.Options{Client: webhook.NewClient(webhook.ClientOptions{AllowPrivate: true}), Templates: set})
	if err != nil {
		w.t.Fatal(err)
	}
	d := &notify.Dispatcher{Store: w.st, Log: storetest.Logger(w.t), Poll: 10 * time.Millisecond, Now: w.clock,
		Notifiers: map[gateway.Channel]notify.Notifier{gateway.ChannelEmail: mail, gateway.ChannelWebhook: hook}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	w.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			w.t.Errorf("dispatcher: %v", err)
		}
	})
	return in
}

// expect waits until each subscriber has received n messages in all, then
// until nothing more is queued, and fails unless it is exactly n each:
// one message per subscriber per update, however many alerts and
// component changes the update covers.
func (in *inboxes) expect(n int) {
	in.w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		in.mu.Lock()
		hooks := len(in.hooks)
		in.mu.Unlock()
		mails := in.mails("ops@example.com")
		if mails >= n && hooks >= n && in.drained() || time.Now().After(deadline) {
			if mails != n || hooks != n {
				in.mu.Lock()
				in.w.t.Errorf("%d mails and %d webhooks (%v), want %d of each", mails, hooks, in.hooks, n)
				in.mu.Unlock()
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mails counts the messages the sink accepted for one address (the page's
// email subscriber, or one a scenario adds).
func (in *inboxes) mails(address string) int {
	n := 0
	for _, to := range in.sink.Recipients() {
		if to == address {
			n++
		}
	}
	return n
}

// drained reports whether every event is planned and every delivery sent.
func (in *inboxes) drained() bool {
	var left int
	err := in.w.st.DB().QueryRowContext(in.w.ctx, `SELECT (SELECT COUNT(*) FROM events WHERE planned_at IS NULL)
		+ (SELECT COUNT(*) FROM deliveries WHERE status IN ('queued', 'sending', 'retrying'))`).Scan(&left)
	return err == nil && left == 0
}

// noComponentEvents fails unless no component.status_changed was sent:
// every change of these scenarios is covered by an incident or a
// maintenance, and rides in its message.
func (w *world) noComponentEvents() {
	w.t.Helper()
	var n int
	if err := w.st.DB().QueryRow("SELECT COUNT(*) FROM events WHERE type = 'component.status_changed'").Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	if n != 0 {
		w.t.Errorf("%d component.status_changed events for changes an incident or maintenance covers", n)
	}
}

// TestASubsequentFailureOpensANewIncident replays the seed's end: eleven
// components fail, recover, and the incident resolves; then the
// Hummingbird App's alert fires again (the seed's "subsequent issue with
// the Hummingbird app"). Its new firing episode opens a new incident, and
// each subscriber gets one message per update throughout.
func TestASubsequentFailureOpensANewIncident(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		box := w.subscribe()
		all := append(append([]string{}, modules...), "Hummingbird App")
		for _, c := range all {
			w.fire(c, "critical", gateway.AlertFiring)
			w.advance(2 * time.Second)
		}
		w.advance(30 * time.Second) // group_wait: one message for the storm
		first := w.only()
		if len(first.Components) != 11 {
			t.Fatalf("the incident covers %d components, want 11", len(first.Components))
		}
		box.expect(1)
		for _, c := range all {
			w.fire(c, "critical", gateway.AlertResolved)
		}
		w.advance(time.Second)
		w.advance(5 * time.Minute) // group_interval after the first message
		box.expect(2)              // monitoring
		w.advance(15 * time.Minute)
		if inc := w.only(); inc.Status != gateway.Resolved {
			t.Fatalf("after resolve_after: %s", inc.Status)
		}
		box.expect(3) // resolved

		w.advance(10 * time.Minute)
		w.fire("Hummingbird App", "critical", gateway.AlertFiring)
		w.advance(time.Second)
		open := w.openIncidents()
		if len(open) != 1 || open[0].ID == first.ID {
			t.Fatalf("open incidents after the re-fire: %+v, want one new one", open)
		}
		second, err := st.Incident(w.ctx, open[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := second.Components[w.componentID("Hummingbird App")]; !ok || len(second.Components) != 1 ||
			second.Name != "Major outage: Hummingbird App" {
			t.Errorf("the new incident is %q on %v, want the Hummingbird App alone", second.Name, second.Components)
		}
		w.advance(30 * time.Second)
		box.expect(4) // the new incident
		wantEvents(t, w.events(second.ID), "incident.created")
		wantEvents(t, w.events(first.ID), "incident.created", "incident.updated", "incident.resolved")

		// The alert kept its history: one alert, in both incidents.
		app := w.alert("Hummingbird App")
		if app.IncidentID != second.ID {
			t.Errorf("the alert is in %q, want the new incident %s", app.IncidentID, second.ID)
		}
		for _, inc := range []string{first.ID, second.ID} {
			joined, err := st.IncidentAlerts(w.ctx, inc, 100)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, j := range joined {
				found = found || j.ID == app.ID
			}
			if !found {
				t.Errorf("incident %s does not list the alert %d among its alerts", inc, app.ID)
			}
		}

		w.advance(5 * time.Minute)
		w.fire("Hummingbird App", "critical", gateway.AlertResolved)
		w.advance(time.Second)
		box.expect(5) // monitoring
		w.advance(15 * time.Minute)
		box.expect(6) // resolved
		w.noComponentEvents()
	})
}

// TestResolvingSendsOneMessage resolves support's incident whose
// component it had set non-operational: the component goes back to
// operational in the resolved message, not in a second one.
func TestResolvingSendsOneMessage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		box := w.subscribe()
		support := gateway.Principal{Kind: "user", Name: "Dana", Role: gateway.RoleSupport}
		inc, err := w.svc.Create(w.ctx, support, incidents.NewIncident{Name: "SMS delays", Status: gateway.Investigating,
			Body: "We are looking into it.", Notify: true, Components: map[string]gateway.ComponentStatus{"Mail Module": gateway.MajorOutage}})
		if err != nil {
			t.Fatal(err)
		}
		w.advance(time.Minute)
		box.expect(1)
		if _, err := w.svc.Resolve(w.ctx, support, inc.ID, incidents.NewUpdate{Body: "Fixed.", Notify: true}); err != nil {
			t.Fatal(err)
		}
		w.advance(time.Second)
		box.expect(2)
		if got := w.status("Mail Module"); got != gateway.Operational {
			t.Errorf("Mail Module = %s after the resolve", got)
		}
		w.noComponentEvents()
		if body := w.eventBody(inc.ID, "incident.resolved"); !strings.Contains(body, `"new_status":"operational"`) {
			t.Errorf("the resolved message does not carry the component's change: %s", body)
		}
	})
}

// TestMaintenanceSendsOneMessagePerChange lets a maintenance start and
// complete by itself: its components' changes ride in its own messages.
func TestMaintenanceSendsOneMessagePerChange(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		box := w.subscribe()
		support := gateway.Principal{Kind: "user", Name: "Dana", Role: gateway.RoleSupport}
		m, err := w.svc.Schedule(w.ctx, support, incidents.NewMaintenance{Name: "Mail relay upgrade", Body: "We are upgrading.",
			Components: []string{"Mail Module", "Copy Module"}, ScheduledFor: t0.Add(10 * time.Minute),
			ScheduledUntil: t0.Add(40 * time.Minute), AutoTransition: true, Notify: true})
		if err != nil {
			t.Fatal(err)
		}
		w.advance(time.Second)
		box.expect(1) // scheduled
		w.advance(10 * time.Minute)
		box.expect(2) // started
		w.advance(30 * time.Minute)
		box.expect(3) // completed
		if got := w.status("Mail Module"); got != gateway.Operational {
			t.Errorf("Mail Module = %s after the maintenance", got)
		}
		wantEvents(t, w.events(m.ID), "maintenance.scheduled", "maintenance.started", "maintenance.completed")
		w.noComponentEvents()
		if body := w.eventBody(m.ID, "maintenance.completed"); !strings.Contains(body, `"old_status":"under_maintenance","new_status":"operational"`) {
			t.Errorf("the completed message does not carry the components' change: %s", body)
		}
	})
}

// TestAnAlertWhoseEndPassesResolves posts one alert through the
// Alertmanager API as Prometheus does, with an end three minutes ahead,
// and nothing more: at its end it is resolved, and the incident moves to
// monitoring. Prometheus refreshing it later makes it fire again.
func TestAnAlertWhoseEndPassesResolves(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		start := w.clock()
		w.prometheus("Space Module", start, start.Add(3*time.Minute))
		w.advance(time.Second)
		if inc := w.only(); inc.Status != gateway.Investigating {
			t.Fatalf("opened %s", inc.Status)
		}
		w.advance(2 * time.Minute)
		if a := w.alert("Space Module"); a.Status != gateway.AlertFiring {
			t.Fatalf("before its end: %s", a.Status)
		}
		w.advance(time.Minute) // its end
		if a := w.alert("Space Module"); a.Status != gateway.AlertResolved || !a.EndsAt.Equal(start.Add(3*time.Minute)) {
			t.Errorf("after its end: %s, ends %v", a.Status, a.EndsAt)
		}
		if inc := w.only(); inc.Status != gateway.Monitoring || w.status("Space Module") != gateway.Operational {
			t.Errorf("after the end: incident %s, Space Module %s", inc.Status, w.status("Space Module"))
		}
		// Prometheus sends it again (it was late, or fires again): the
		// same episode start, a later end.
		w.advance(time.Minute)
		w.prometheus("Space Module", start, w.clock().Add(3*time.Minute))
		w.advance(time.Second)
		if a := w.alert("Space Module"); a.Status != gateway.AlertFiring {
			t.Errorf("refreshed: %s", a.Status)
		}
		if inc := w.only(); inc.Status != gateway.Investigating {
			t.Errorf("refreshed while monitoring: %s, want the incident reopened", inc.Status)
		}
	})
}

// TestAnAlertWithoutEndResolvesAfterResolveTimeout posts an alert through
// the Alertmanager API with no end, as amtool does: it resolves
// resolve_timeout after it was last received.
func TestAnAlertWithoutEndResolvesAfterResolveTimeout(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		w.prometheus("Space Module", time.Time{}, time.Time{})
		w.advance(4 * time.Minute)
		w.prometheus("Space Module", time.Time{}, time.Time{}) // sent again: the timeout starts over
		last := w.clock()
		w.advance(4 * time.Minute)
		if a := w.alert("Space Module"); a.Status != gateway.AlertFiring || !a.EndsAt.Equal(last.Add(resolveTimeout)) {
			t.Fatalf("within resolve_timeout of the last post: %s, ends %v", a.Status, a.EndsAt)
		}
		w.advance(time.Minute)
		if a := w.alert("Space Module"); a.Status != gateway.AlertResolved {
			t.Errorf("resolve_timeout after the last post: %s", a.Status)
		}
		if inc := w.only(); inc.Status != gateway.Monitoring {
			t.Errorf("incident %s, want monitoring", inc.Status)
		}
		// A webhook alert, which carries its resolution, has no timeout.
		w.fire("Move Module", "critical", gateway.AlertFiring)
		w.advance(time.Hour)
		if a := w.alert("Move Module"); a.Status != gateway.AlertFiring || !a.EndsAt.IsZero() {
			t.Errorf("an Alertmanager webhook alert after an hour: %s, ends %v", a.Status, a.EndsAt)
		}
	})
}

// TestTitleAndImpactFollowTheAlerts lets an automatic incident grow after
// its first message: a worse alert on its component and a component that
// joins late. Its title and impact follow each; once support writes, they
// are support's.
func TestTitleAndImpactFollowTheAlerts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		w.fire("Visitor Module", "warning", gateway.AlertFiring)
		w.advance(time.Second)
		w.advance(time.Minute) // announced
		check := func(name string, impact gateway.Impact) *gateway.Incident {
			t.Helper()
			inc := w.only()
			if inc.Name != name || inc.Impact != impact {
				t.Errorf("incident %q, impact %s; want %q, %s", inc.Name, inc.Impact, name, impact)
			}
			return inc
		}
		check("Degraded performance: Visitor Module", gateway.ImpactMinor)
		w.fireAs("visitor-kiosks", "Visitor Module", "critical", gateway.AlertFiring) // worse
		w.advance(time.Second)
		inc := check("Major outage: Visitor Module", gateway.ImpactCritical)
		if !strings.Contains(inc.Updates[0].Body, "become worse") {
			t.Errorf("no update says it got worse: %q", inc.Updates[0].Body)
		}
		w.fire("Space Module", "critical", gateway.AlertFiring) // late
		w.advance(time.Second)
		check("Major outage: Space Module and Visitor Module", gateway.ImpactCritical)
		w.fire("Visitor Module", "warning", gateway.AlertResolved)
		w.fireAs("visitor-kiosks", "Visitor Module", "critical", gateway.AlertResolved)
		w.advance(time.Second)
		check("Major outage: Space Module and Visitor Module", gateway.ImpactCritical) // never smaller
		w.advance(5 * time.Minute)
		wantEvents(t, w.events(inc.ID), "incident.created", "incident.updated")
		if body := w.lastEventBody(inc.ID); !strings.Contains(body, "Major outage: Space Module and Visitor Module") {
			t.Errorf("the update's message names the incident otherwise: %s", body)
		}

		support := gateway.Principal{Kind: "user", Name: "Dana", Role: gateway.RoleSupport}
		if _, err := w.svc.Edit(w.ctx, support, inc.ID, ptr("Visitor check-in outage"), nil); err != nil {
			t.Fatal(err)
		}
		w.fire("Hummingbird App", "critical", gateway.AlertFiring)
		w.advance(time.Second)
		check("Visitor check-in outage", gateway.ImpactCritical)
	})
}

func ptr[T any](v T) *T { return &v }

// prometheus posts one alert for component through the Alertmanager API
// source, as Prometheus (with starts and ends) or amtool (zero times: none
// sent) does.
func (w *world) prometheus(component string, starts, ends time.Time) {
	w.t.Helper()
	a := map[string]any{"labels": map[string]string{"alertname": "ServiceDown", "severity": "critical", "module": slug(component)}}
	if !starts.IsZero() {
		a["startsAt"] = starts.Format(time.RFC3339Nano)
	}
	if !ends.IsZero() {
		a["endsAt"] = ends.Format(time.RFC3339Nano)
	}
	body, err := json.Marshal([]any{a})
	if err != nil {
		w.t.Fatal(err)
	}
	src, err := w.st.Source(w.ctx, "prometheus-api")
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.in.Ingest(w.ctx, src, body, "application/json", w.clock()); err != nil {
		w.t.Fatal(err)
	}
}

// alert returns the one alert routed to component, as the admin API lists it.
func (w *world) alert(component string) *store.AlertRecord {
	w.t.Helper()
	list, err := w.st.Alerts(w.ctx, store.AlertFilter{ComponentID: w.componentID(component)})
	if err != nil {
		w.t.Fatal(err)
	}
	if len(list) != 1 {
		w.t.Fatalf("%d alerts on %s, want 1", len(list), component)
	}
	return list[0]
}

func (w *world) componentID(name string) string {
	w.t.Helper()
	c, err := w.st.Component(w.ctx, name)
	if err != nil {
		w.t.Fatal(err)
	}
	return c.ID
}

// lastEventBody returns the payload of an incident's newest event.
func (w *world) lastEventBody(incidentID string) string {
	w.t.Helper()
	q := "SELECT payload FROM events WHERE incident_id = ? ORDER BY created_at DESC, id DESC LIMIT 1"
	if w.st.Dialect() == store.Postgres {
		q = strings.Replace(q, "?", "$1", 1)
	}
	var p string
	if err := w.st.DB().QueryRowContext(w.ctx, q, incidentID).Scan(&p); err != nil {
		w.t.Fatal(err)
	}
	return p
}

// TestALongOutageTakesLateFailures lets an outage fire for longer than
// correlation.window before another component fails: the incident is not
// quiet while its alerts fire, so the late failure joins it (as the
// Hummingbird App's did in the seed). When everything recovered after
// that long, a re-fire while monitoring still reopens it.
func TestALongOutageTakesLateFailures(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		w.fire("Space Module", "critical", gateway.AlertFiring)
		w.advance(time.Second)
		w.advance(time.Hour)
		w.fire("Hummingbird App", "critical", gateway.AlertFiring)
		w.advance(time.Second)
		inc := w.only()
		if len(inc.Components) != 2 {
			t.Fatalf("the late failure: the incident covers %d components, want 2", len(inc.Components))
		}
		w.advance(time.Hour)
		w.fire("Space Module", "critical", gateway.AlertResolved)
		w.fire("Hummingbird App", "critical", gateway.AlertResolved)
		w.advance(time.Second)
		w.advance(time.Minute)
		w.fire("Hummingbird App", "critical", gateway.AlertFiring)
		w.advance(time.Second)
		if inc = w.only(); inc.Status != gateway.Investigating {
			t.Errorf("a re-fire while monitoring: %s, want the incident reopened", inc.Status)
		}
	})
}

// TestResolvingWhileAlertsFireOpensANewIncident: support resolves an
// incident whose alert still fires. The red component must not stay
// unexplained, so the alert's episode is correlated again: a new incident.
func TestResolvingWhileAlertsFireOpensANewIncident(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		w.fire("Space Module", "critical", gateway.AlertFiring)
		w.advance(time.Second)
		first := w.only()
		support := gateway.Principal{Kind: "user", Name: "Dana", Role: gateway.RoleSupport}
		if _, err := w.svc.Resolve(w.ctx, support, first.ID, incidents.NewUpdate{Body: "Fixed.", Notify: true}); err != nil {
			t.Fatal(err)
		}
		w.advance(time.Second)
		open := w.openIncidents()
		if len(open) != 1 || open[0].ID == first.ID || w.alert("Space Module").IncidentID != open[0].ID {
			t.Errorf("open incidents after resolving a firing one: %+v, want a new one with the alert", open)
		}
	})
}

// openIncidents lists the open incidents, newest first.
func (w *world) openIncidents() []gateway.Incident {
	w.t.Helper()
	list, err := w.st.Incidents(w.ctx, store.IncidentFilter{Status: "open"})
	if err != nil {
		w.t.Fatal(err)
	}
	return list
}
