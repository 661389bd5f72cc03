package web_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/templates"
)

// TestWebhooksNameWhatTheAPINames: a statuspage-format webhook and the
// Statuspage-compatible API v2 name the page, the incident and its
// components alike (page id, group ids, positions, creation times) and
// agree on the page's status, so a consumer can match one with the other.
func TestWebhooksNameWhatTheAPINames(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		inc := e.seedOutage()
		evs, err := st.IncidentEvents(e.ctx, inc.ID, 10)
		if err != nil || len(evs) == 0 {
			t.Fatalf("events %v: %v", evs, err)
		}
		newest := evs[0]
		for _, ev := range evs {
			if ev.CreatedAt.After(newest.CreatedAt) {
				newest = ev
			}
		}
		set, err := templates.Load("")
		if err != nil {
			t.Fatal(err)
		}
		n, err := webhook.New(webhook.Options{Client: webhook.NewClient(webhook.ClientOptions{}), Templates: set})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := n.Body(&notify.Message{DeliveryID: 1, Event: newest, Subscriber: &gateway.Subscriber{ID: "s",
			Kind: gateway.SubscriberWebhook, Address: "https://hooks.example.com/", Format: gateway.FormatStatuspage}}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		type component struct {
			ID        string
			GroupID   *string `json:"group_id"`
			Position  int
			CreatedAt string `json:"created_at"`
		}
		var hook struct {
			Page struct {
				ID        string
				Indicator string `json:"status_indicator"`
			}
			Incident struct {
				ID         string
				PageID     string `json:"page_id"`
				Components []component
			}
		}
		if err := json.Unmarshal(raw, &hook); err != nil {
			t.Fatal(err)
		}
		var api struct {
			Page       struct{ ID string }
			Status     struct{ Indicator string }
			Components []component
			Incidents  []struct{ ID string }
		}
		if err := json.Unmarshal([]byte(e.mustGet("/api/v2/summary.json")), &api); err != nil {
			t.Fatal(err)
		}
		if hook.Page.ID != api.Page.ID || hook.Incident.PageID != api.Page.ID {
			t.Errorf("webhook page.id %q, page_id %q; API page.id %q", hook.Page.ID, hook.Incident.PageID, api.Page.ID)
		}
		if hook.Page.Indicator != api.Status.Indicator || len(api.Incidents) != 1 || hook.Incident.ID != api.Incidents[0].ID {
			t.Errorf("webhook %+v, API %+v %+v", hook.Page, api.Status, api.Incidents)
		}
		byID := map[string]component{}
		for _, c := range api.Components {
			byID[c.ID] = c
		}
		if len(hook.Incident.Components) != 11 {
			t.Fatalf("webhook has %d components, want 11", len(hook.Incident.Components))
		}
		for _, c := range hook.Incident.Components {
			a := byID[c.ID]
			if c.GroupID == nil || a.GroupID == nil || *c.GroupID != *a.GroupID || c.Position != a.Position || c.CreatedAt != a.CreatedAt {
				t.Errorf("component %s: webhook %+v, API %+v", c.ID, c, a)
			}
		}
	})
}
