package incidents_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/gateway/notify/webhook/webhooktest"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/templates"
)

// TestStatuspageWebhooksOfARealOutage runs an outage, a postmortem, an
// overdue update, a maintenance, a lone component change and a broadcast
// through the service on a real store, then builds the statuspage body of
// every event Herald wrote and holds it to Statuspage's captured webhooks
// (every key path and JSON type) and to a Statuspage consumer's reads.
// It also checks what the captures cannot: the whole timeline newest first
// on every incident body, every affected component (with its real group,
// position and creation time) also when an update changed none, the
// whole page's status at the moment of the event, one page id, and the
// generic format's group names.
func TestStatuspageWebhooksOfARealOutage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		support := gateway.Principal{Kind: "api_key", Name: "support-key", Role: gateway.RoleSupport}
		hook := newHook(t)

		// A lone component fails (no incident covers it), then two
		// modules: one incident.
		if err := w.svc.SetComponentStatus(w.ctx, support, "Hummingbird App", gateway.MajorOutage); err != nil {
			t.Fatal(err)
		}
		w.fire("Space Module", "warning", gateway.AlertFiring)
		w.fire("Move Module", "warning", gateway.AlertFiring)
		w.advance(time.Second)
		w.advance(30 * time.Second) // group_wait: incident.created
		inc := w.only()
		created := hook.body(t, w, st, inc.ID, gateway.EventIncidentCreated, gateway.FormatStatuspage)

		// Support's identified update changes no component.
		if _, err := w.svc.PostUpdate(w.ctx, support, inc.ID, incidents.NewUpdate{Status: gateway.Identified,
			Body: "The DNS resolvers of the application nodes are misconfigured.", Notify: true}); err != nil {
			t.Fatal(err)
		}
		var identified spBody
		hook.decode(t, hook.body(t, w, st, inc.ID, gateway.EventIncidentUpdated, gateway.FormatStatuspage), &identified)
		if len(identified.Incident.Components) != 2 || identified.Incident.Updates[0].Status != "identified" {
			t.Errorf("identified update: components %+v, updates %+v; want both modules and the update first",
				identified.Incident.Components, identified.Incident.Updates)
		}
		// The modules are degraded (minor), the app is down: the page is critical.
		if identified.Page.StatusIndicator != "critical" || identified.Page.StatusDescription != "Major System Outage" {
			t.Errorf("page status %+v, want the whole page's: critical, Major System Outage", identified.Page)
		}

		// Recovery: monitoring, then resolved; the postmortem.
		w.fire("Space Module", "warning", gateway.AlertResolved)
		w.fire("Move Module", "warning", gateway.AlertResolved)
		w.advance(time.Second)
		if _, err := w.svc.Resolve(w.ctx, support, inc.ID, incidents.NewUpdate{Body: "Resolvers fixed.", Notify: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Postmortem(w.ctx, support, inc.ID, "Root cause: a DNS change.", true); err != nil {
			t.Fatal(err)
		}
		var pm spBody
		hook.decode(t, hook.body(t, w, st, inc.ID, gateway.EventIncidentPostmortem, gateway.FormatStatuspage), &pm)
		var statuses []string
		for i, u := range pm.Incident.Updates {
			statuses = append(statuses, u.Status)
			if i > 0 && u.CreatedAt > pm.Incident.Updates[i-1].CreatedAt {
				t.Errorf("postmortem: incident_updates not newest first: %+v", pm.Incident.Updates)
			}
		}
		if len(statuses) < 3 || statuses[0] != "resolved" || statuses[len(statuses)-1] != "investigating" || !slices.Contains(statuses, "identified") {
			t.Errorf("postmortem: incident_updates %v, want the whole history newest first", statuses)
		}

		// An update support promised and did not post.
		due, err := w.svc.Create(w.ctx, support, incidents.NewIncident{Name: "Mail delays", Status: gateway.Investigating,
			Body: "Mail is slow.", Components: map[string]gateway.ComponentStatus{"Mail Module": gateway.DegradedPerformance},
			Notify: true, NextUpdateAt: w.clock().Add(10 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		w.advance(11 * time.Minute)

		// A maintenance from schedule to completion.
		start := w.clock().Add(time.Hour)
		if _, err := w.svc.Schedule(w.ctx, support, incidents.NewMaintenance{Name: "Resolver upgrade", Body: "We upgrade the resolvers.",
			Components: []string{"Copy Module"}, ScheduledFor: start, ScheduledUntil: start.Add(time.Hour), AutoTransition: true, Notify: true}); err != nil {
			t.Fatal(err)
		}
		w.advance(61 * time.Minute)
		w.advance(time.Hour)

		// A broadcast to everyone.
		planner := &notify.Planner{Store: st}
		if _, err := planner.Broadcast(w.ctx, notify.Broadcast{Subject: "Planned changes", Body: "We will move data centres in May.",
			IdempotencyKey: "b-1", Actor: support, Page: gateway.PageInfo{Name: "Eptura Workplace", URL: "https://status.example.com"}}); err != nil {
			t.Fatal(err)
		}

		seen := map[gateway.EventType]bool{}
		for _, ev := range w.allEvents() {
			seen[ev.Type] = true
			b := hook.build(t, ev, gateway.FormatStatuspage)
			kind, notice := webhooktest.KindIncident, ev.Type == gateway.EventBroadcast
			if ev.Type == gateway.EventComponentStatus {
				kind = webhooktest.KindComponent
			}
			shape, err := webhooktest.Captures(kind)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range shape.Compare(b, notice) {
				t.Errorf("%s: %s", ev.Type, p)
			}
			if err := webhooktest.ConsumerReads(b); err != nil {
				t.Errorf("%s: a Statuspage consumer fails: %v\n%s", ev.Type, err, b)
			}
			hook.checkIDs(t, w, b, ev)
			hook.checkGeneric(t, ev)
		}
		for _, et := range []gateway.EventType{gateway.EventIncidentCreated, gateway.EventIncidentUpdated, gateway.EventIncidentResolved,
			gateway.EventIncidentPostmortem, gateway.EventIncidentUpdateDue, gateway.EventComponentStatus,
			gateway.EventMaintenanceScheduled, gateway.EventMaintenanceStarted, gateway.EventMaintenanceCompleted, gateway.EventBroadcast} {
			if !seen[et] {
				t.Errorf("the scenario wrote no %s event", et)
			}
		}
		if len(w.events(due.ID)) == 0 {
			t.Error("no event for the incident with the overdue update")
		}

		// A retry sends what the first attempt sent, whatever changed since.
		if again := hook.body(t, w, st, inc.ID, gateway.EventIncidentCreated, gateway.FormatStatuspage); string(again) != string(created) {
			t.Errorf("incident.created now:\n%s\nwhen written:\n%s", again, created)
		}
	})
}

// spBody is what these tests read of a statuspage body.
type spBody struct {
	Page struct {
		ID                string
		StatusIndicator   string `json:"status_indicator"`
		StatusDescription string `json:"status_description"`
	}
	Incident struct {
		PageID  string `json:"page_id"`
		Updates []struct {
			Status    string
			CreatedAt string `json:"created_at"`
		} `json:"incident_updates"`
		Components []spComponent
	}
	Component *spComponent
}

type spComponent struct {
	ID, Name  string
	CreatedAt string  `json:"created_at"`
	Position  int     `json:"position"`
	GroupID   *string `json:"group_id"`
	PageID    string  `json:"page_id"`
}

// hook builds bodies as the webhook channel sends them.
type hook struct{ n *webhook.Notifier }

func newHook(t *testing.T) *hook {
	t.Helper()
	set, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	n, err := webhook.New(webhook.Options{Client: webhook.NewClient(webhook.ClientOptions{}), Templates: set,
		Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return &hook{n: n}
}

func (h *hook) build(t *testing.T, ev *gateway.Event, format gateway.WebhookFormat) []byte {
	t.Helper()
	b, err := h.n.Body(&notify.Message{DeliveryID: 1, Event: ev, Subscriber: &gateway.Subscriber{ID: "s1",
		Kind: gateway.SubscriberWebhook, Address: "https://hooks.example.com/h", Format: format},
		UnsubscribeURL: "https://status.example.com/unsubscribe/tok"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// body builds the body of the incident's newest event of type et.
func (h *hook) body(t *testing.T, w *world, st *store.Store, incidentID string, et gateway.EventType, format gateway.WebhookFormat) []byte {
	t.Helper()
	var last *gateway.Event
	for _, ev := range w.allEvents() {
		if ev.IncidentID == incidentID && ev.Type == et {
			last = ev
		}
	}
	if last == nil {
		t.Fatalf("no %s event for %s (events: %v)", et, incidentID, w.events(incidentID))
	}
	return h.build(t, last, format)
}

func (h *hook) decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// checkIDs: one page id (the API's), and components as the page has them.
func (h *hook) checkIDs(t *testing.T, w *world, b []byte, ev *gateway.Event) {
	t.Helper()
	var sp spBody
	h.decode(t, b, &sp)
	pageID := gateway.PageID("https://status.example.com")
	if sp.Page.ID != pageID || (sp.Component == nil && sp.Incident.PageID != pageID) {
		t.Errorf("%s: page.id %q, incident.page_id %q, want %q", ev.Type, sp.Page.ID, sp.Incident.PageID, pageID)
	}
	comps := sp.Incident.Components
	if sp.Component != nil {
		comps = []spComponent{*sp.Component}
	}
	if len(comps) == 0 {
		t.Errorf("%s: no components", ev.Type)
	}
	for _, c := range comps {
		want, err := w.st.Component(w.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.GroupID == nil || *c.GroupID != want.GroupID || c.Position != want.Position+1 ||
			c.CreatedAt != want.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z") || c.PageID != pageID {
			t.Errorf("%s: component %+v, want group_id %s, position %d, created_at %s", ev.Type, c, want.GroupID, want.Position+1, want.CreatedAt)
		}
	}
}

// checkGeneric: the generic format names the group of every component.
func (h *hook) checkGeneric(t *testing.T, ev *gateway.Event) {
	t.Helper()
	var g struct {
		Components []struct{ Name, Group string }
	}
	h.decode(t, h.build(t, ev, gateway.FormatGeneric), &g)
	for _, c := range g.Components {
		want := "Eptura Workplace Modules"
		if c.Name == "Hummingbird App" {
			want = "Apps"
		}
		if c.Group != want {
			t.Errorf("%s (generic): %s in group %q, want %q", ev.Type, c.Name, c.Group, want)
		}
	}
}

// allEvents reads every event the store holds, oldest first.
func (w *world) allEvents() []*gateway.Event {
	w.t.Helper()
	rows, err := w.st.DB().QueryContext(w.ctx, "SELECT id FROM events ORDER BY created_at, id")
	if err != nil {
		w.t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			w.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	var out []*gateway.Event
	for _, id := range ids {
		ev, err := w.st.Event(w.ctx, id)
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}
