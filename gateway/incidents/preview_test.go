package incidents_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestPreviewUpdateIsTheEventPostUpdateWrites checks the console's update
// preview against the real thing: the event PreviewUpdate returns is the
// one PostUpdate then writes (type, components, payload), and the preview
// itself writes nothing.
func TestPreviewUpdateIsTheEventPostUpdateWrites(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		support := gateway.Principal{Kind: "api_key", Name: "support-key", Role: gateway.RoleSupport}
		w.fire("Space Module", "critical", gateway.AlertFiring)
		w.advance(time.Second)
		inc := w.only()
		for i := 0; i < 10 && len(w.events(inc.ID)) == 0; i++ {
			w.advance(time.Minute) // past group_wait: the first message is out
		}
		wantEvents(t, w.events(inc.ID), "incident.created")
		move, err := st.Component(w.ctx, "Move Module")
		if err != nil {
			t.Fatal(err)
		}
		in := incidents.NewUpdate{Status: gateway.Identified, Notify: true, IdempotencyKey: "update-1",
			Body:       "We have identified a DNS fault; the Move Module is affected too.",
			Components: map[string]gateway.ComponentStatus{"Move Module": gateway.PartialOutage}}
		w.advance(time.Second) // after the first message, so events sort by time

		ev, _, err := w.svc.PreviewUpdate(w.ctx, support, inc.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		// Nothing written: no event, no update, no status, no component.
		wantEvents(t, w.events(inc.ID), "incident.created")
		if after := w.only(); after.Status != inc.Status || len(after.Updates) != len(inc.Updates) || !after.HumanAt.IsZero() {
			t.Errorf("the preview wrote: status %s, %d updates, human at %v", after.Status, len(after.Updates), after.HumanAt)
		}
		if got := w.status("Move Module"); got != gateway.Operational {
			t.Errorf("the preview set Move Module to %s", got)
		}

		if _, err := w.svc.PostUpdate(w.ctx, support, inc.ID, in); err != nil {
			t.Fatal(err)
		}
		wantEvents(t, w.events(inc.ID), "incident.created", "incident.updated")
		if ev.Type != gateway.EventIncidentUpdated {
			t.Errorf("preview type %s, want %s", ev.Type, gateway.EventIncidentUpdated)
		}
		if !slices.Contains(ev.ComponentIDs, move.ID) {
			t.Errorf("preview components %v lack Move Module (%s)", ev.ComponentIDs, move.ID)
		}
		// The same payload but for the ids of rows the preview rolled back.
		var sent gateway.EventPayload
		if err := json.Unmarshal([]byte(w.eventBody(inc.ID, "incident.updated")), &sent); err != nil {
			t.Fatal(err)
		}
		if sent.Update == nil || ev.Payload.Update == nil {
			t.Fatalf("no update in the payloads: preview %+v, sent %+v", ev.Payload, sent)
		}
		sent.Update.ID = ev.Payload.Update.ID
		if sent.Incident != nil && len(sent.Incident.Updates) > 0 {
			sent.Incident.Updates[0].ID = ev.Payload.Update.ID // the timeline's newest is the same update
		}
		want, _ := json.Marshal(sent)
		got, _ := json.Marshal(ev.Payload)
		if string(got) != string(want) {
			t.Errorf("preview payload\n%s\nsent payload\n%s", got, want)
		}
		if !strings.Contains(string(got), `"new_status":"partial_outage"`) {
			t.Errorf("the payload does not show Move Module's change: %s", got)
		}

		// The same key again: PostUpdate sends nothing more, while the
		// preview still shows the message (it ignores the key).
		if ev, _, err = w.svc.PreviewUpdate(w.ctx, support, inc.ID, in); err != nil || ev.Type != gateway.EventIncidentUpdated {
			t.Errorf("preview after posting: %v, %v", ev, err)
		}
		wantEvents(t, w.events(inc.ID), "incident.created", "incident.updated")
	})
}

// TestPreviewUpdateOfADraft shows a draft's first message (what publishing
// will send) without publishing it, and refuses what PostUpdate refuses.
func TestPreviewUpdateOfADraft(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, settings())
		support := gateway.Principal{Kind: "api_key", Name: "support-key", Role: gateway.RoleSupport}
		inc, err := w.svc.Create(w.ctx, support, incidents.NewIncident{Name: "Login problems", Status: gateway.Investigating,
			Body: "Looking into it.", Draft: true})
		if err != nil {
			t.Fatal(err)
		}
		ev, _, err := w.svc.PreviewUpdate(w.ctx, support, inc.ID, incidents.NewUpdate{Status: gateway.Identified, Body: "Found it."})
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type != gateway.EventIncidentCreated || ev.Payload.Update.Body != "Found it." {
			t.Errorf("draft preview: %s %+v", ev.Type, ev.Payload.Update)
		}
		if got, err := st.Incident(w.ctx, inc.ID); err != nil || got.Published || len(got.Updates) != 1 {
			t.Errorf("the preview changed the draft: %+v, %v", got, err)
		}
		wantEvents(t, w.events(inc.ID))

		for _, bad := range []incidents.NewUpdate{
			{Status: gateway.Postmortem, Body: "x"},
			{Status: "broken", Body: "x"},
			{Status: gateway.Identified},
			{Status: gateway.Identified, Body: "x", Components: map[string]gateway.ComponentStatus{"Nope": gateway.MajorOutage}},
		} {
			if _, _, err := w.svc.PreviewUpdate(w.ctx, support, inc.ID, bad); gateway.ErrorCode(err) != gateway.EUNPROCESSABLE {
				t.Errorf("preview of %+v: %v, want a field error", bad, err)
			}
		}
		if _, _, err := w.svc.PreviewUpdate(w.ctx, support, "i-nope", incidents.NewUpdate{Status: gateway.Identified, Body: "x"}); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("preview of a missing incident: %v", err)
		}
	})
}
