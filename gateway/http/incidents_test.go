package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func TestIncidentsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		support, viewer := gateway.RoleSupport, gateway.RoleViewer
		if r := e.do("POST", "/api/v1/incidents", support, `{"name":"x","status":"investigating","body":"x"}`); r.status != 503 {
			t.Errorf("before the service is set: %d %s, want 503", r.status, r.body)
		}
		e.publish(func(s *herhttp.Services) {
			s.Incidents = incidents.New(incidents.Options{Store: st, Log: storetest.Logger(t), PublicURL: "http://status.test"})
		})
		e.do("POST", "/api/v1/components", gateway.RoleAdmin, `{"name":"Hummingbird App"}`)

		r := e.do("POST", "/api/v1/incidents", support, `{"name":"Login problems","status":"investigating",
			"body":"iOFFICE is currently investigating an issue with customers site access.",
			"components":{"Hummingbird App":"major_outage"},"next_update_at":"2030-01-01T10:50:00Z"}`)
		if r.status != 201 {
			t.Fatalf("create = %d %s", r.status, r.body)
		}
		var inc struct {
			ID      string `json:"id"`
			Status  string `json:"status"`
			Impact  string `json:"impact"`
			Updates []struct{ Body, Author string }
		}
		r.decode(t, &inc)
		if inc.Status != "investigating" || inc.Impact != "critical" || len(inc.Updates) != 1 || inc.Updates[0].Author != "support-key" {
			t.Errorf("created %s", r.body)
		}
		if r := e.do("GET", "/api/v1/components/Hummingbird%20App", viewer, ""); !strings.Contains(r.body, `"status":"major_outage"`) {
			t.Errorf("the component did not take the incident's status: %s", r.body)
		}

		tests := []struct {
			name, method, path string
			role               gateway.Role
			body               string
			status             int
			field              string
		}{
			{"viewer may not create", "POST", "/api/v1/incidents", viewer, `{"name":"x","status":"investigating","body":"x"}`, 403, ""},
			{"bad status", "POST", "/api/v1/incidents", support, `{"name":"x","status":"down","body":"x"}`, 422, "status"},
			{"missing body", "POST", "/api/v1/incidents", support, `{"name":"x","status":"investigating"}`, 422, "body"},
			{"unknown component", "POST", "/api/v1/incidents", support, `{"name":"x","status":"investigating","body":"x","components":{"Nope":"major_outage"}}`, 422, "components.Nope"},
			{"bad component status", "POST", "/api/v1/incidents", support, `{"name":"x","status":"investigating","body":"x","components":{"Hummingbird App":"down"}}`, 422, "components.Hummingbird App"},
			{"maintenance status on an incident", "POST", "/api/v1/incidents/" + inc.ID + "/updates", support, `{"status":"in_progress","body":"x"}`, 422, "status"},
			{"unknown incident", "POST", "/api/v1/incidents/nope/updates", support, `{"status":"identified","body":"x"}`, 404, ""},
			{"postmortem before resolve", "POST", "/api/v1/incidents/" + inc.ID + "/postmortem", support, `{"body":"x"}`, 422, ""},
			{"maintenance without window", "POST", "/api/v1/maintenances", support, `{"name":"x","body":"x","components":["Hummingbird App"]}`, 422, "scheduled_for"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(tt.method, tt.path, tt.role, tt.body)
				if r.status != tt.status || tt.field != "" && !strings.Contains(r.body, `"`+tt.field+`"`) {
					t.Errorf("= %d %s, want %d naming %q", r.status, r.body, tt.status, tt.field)
				}
			})
		}

		r = e.do("POST", "/api/v1/incidents/"+inc.ID+"/updates", support, `{"status":"identified","body":"Our incident response team has identified the issue."}`)
		if r.status != 201 || !strings.Contains(r.body, `"status":"identified"`) {
			t.Errorf("update = %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/api/v1/incidents?status=open", viewer, ""); !strings.Contains(r.body, inc.ID) {
			t.Errorf("open list lacks the incident: %s", r.body)
		}
		for range 2 { // the second as a retry: answered, nothing posted or sent again
			if r := e.do("POST", "/api/v1/incidents/"+inc.ID+"/resolve", support, ""); r.status != 200 || !strings.Contains(r.body, `"status":"resolved"`) {
				t.Errorf("resolve = %d %s", r.status, r.body)
			}
		}
		if got, err := st.Incident(context.Background(), inc.ID); err != nil {
			t.Fatal(err)
		} else if len(got.Updates) != 3 {
			t.Errorf("after resolving twice: %d updates, want 3 (declared, identified, resolved)", len(got.Updates))
		}
		if r := e.do("GET", "/api/v1/components/Hummingbird%20App", viewer, ""); !strings.Contains(r.body, `"status":"operational"`) {
			t.Errorf("resolving did not free the component: %s", r.body)
		}
		if r := e.do("POST", "/api/v1/incidents/"+inc.ID+"/postmortem", support, `{"body":"## Root cause\nDNS."}`); r.status != 200 || !strings.Contains(r.body, `"status":"postmortem"`) {
			t.Errorf("postmortem = %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/api/v1/incidents?status=resolved", viewer, ""); !strings.Contains(r.body, inc.ID) {
			t.Errorf("resolved list lacks the incident: %s", r.body)
		}
		if r := e.do("PUT", "/api/v1/components/Hummingbird%20App/status", support, `{"status":"degraded_performance"}`); !strings.Contains(r.body, `"manual_status":"degraded_performance"`) {
			t.Errorf("manual status = %d %s", r.status, r.body)
		}
		if r := e.do("PUT", "/api/v1/components/Hummingbird%20App/status", support, `{"status":null}`); !strings.Contains(r.body, `"status":"operational"`) || !strings.Contains(r.body, `"manual_status":null`) {
			t.Errorf("clearing manual status = %d %s", r.status, r.body)
		}

		r = e.do("POST", "/api/v1/maintenances", support, `{"name":"Database upgrade","body":"We are upgrading.","components":["Hummingbird App"],
			"scheduled_for":"2030-01-01T10:00:00Z","scheduled_until":"2030-01-01T11:00:00Z"}`)
		if r.status != 201 || !strings.Contains(r.body, `"status":"scheduled"`) || !strings.Contains(r.body, `"kind":"maintenance"`) {
			t.Fatalf("schedule = %d %s", r.status, r.body)
		}
		var m struct{ ID string }
		r.decode(t, &m)
		if r := e.do("GET", "/api/v1/incidents/"+m.ID, viewer, ""); r.status != 404 {
			t.Errorf("a maintenance under /incidents = %d", r.status)
		}
		if r := e.do("DELETE", "/api/v1/maintenances/"+m.ID, support, ""); r.status != 200 || !strings.Contains(r.body, `"status":"completed"`) {
			t.Errorf("cancel = %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/api/v1/audit", gateway.RoleAdmin, ""); !strings.Contains(r.body, "incident.create") || !strings.Contains(r.body, "maintenance.cancel") {
			t.Errorf("audit lacks incident actions: %.300s", r.body)
		}
	})
}

// TestIncidentsAPIIdempotencyKey retries a declaration and an update with
// the same Idempotency-Key, as a client that lost the first answer does:
// one incident, one update; the key reused for other words is 409.
func TestIncidentsAPIIdempotencyKey(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		e.publish(func(s *herhttp.Services) {
			s.Incidents = incidents.New(incidents.Options{Store: st, Log: storetest.Logger(t), PublicURL: "http://status.test"})
		})
		post := func(path, key, body string) response {
			t.Helper()
			req, err := http.NewRequest("POST", e.url+path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+e.keys[gateway.RoleSupport])
			req.Header.Set("Idempotency-Key", key)
			return e.send(req)
		}
		var ids []string
		for range 2 {
			r := post("/api/v1/incidents", "declare-42", `{"name":"Login problems","status":"investigating","body":"Looking into it."}`)
			if r.status != http.StatusCreated {
				t.Fatalf("declare = %d %s", r.status, r.body)
			}
			var inc struct{ ID string }
			r.decode(t, &inc)
			ids = append(ids, inc.ID)
		}
		if ids[0] != ids[1] {
			t.Fatalf("a retried declaration made a second incident: %v", ids)
		}
		path := "/api/v1/incidents/" + ids[0] + "/updates"
		for range 2 {
			if r := post(path, "update-7", `{"status":"identified","body":"Found it."}`); r.status != http.StatusCreated {
				t.Fatalf("update = %d %s", r.status, r.body)
			}
		}
		if r := post(path, "update-7", `{"status":"identified","body":"Other words."}`); r.status != http.StatusConflict {
			t.Errorf("the key reused for other words: %d %s, want 409", r.status, r.body)
		}
		inc, err := st.Incident(context.Background(), ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if list, err := st.Incidents(context.Background(), store.IncidentFilter{}); err != nil {
			t.Fatal(err)
		} else if len(list) != 1 || len(inc.Updates) != 2 {
			t.Errorf("%d incidents, %d updates; want 1 and 2", len(list), len(inc.Updates))
		}

		// A maintenance is scheduled once per key, and an incident's key
		// reused for a maintenance schedules a maintenance.
		e.do("POST", "/api/v1/components", gateway.RoleAdmin, `{"name":"Space Module"}`)
		maint := `{"name":"Database upgrade","body":"We are upgrading.","components":["Space Module"],
			"scheduled_for":"2030-01-01T10:00:00Z","scheduled_until":"2030-01-01T11:00:00Z"}`
		var mids []string
		for _, key := range []string{"declare-42", "declare-42", "maint-1", "maint-1"} {
			r := post("/api/v1/maintenances", key, maint)
			var m struct{ ID, Kind string }
			r.decode(t, &m)
			if r.status != http.StatusCreated || m.Kind != gateway.KindMaintenance {
				t.Fatalf("schedule with key %s = %d %s", key, r.status, r.body)
			}
			mids = append(mids, m.ID)
		}
		if mids[0] != mids[1] || mids[2] != mids[3] || mids[0] == mids[2] {
			t.Errorf("maintenances by key: %v, want two, each answered twice", mids)
		}
		if list, err := st.Incidents(context.Background(), store.IncidentFilter{Kind: gateway.KindMaintenance}); err != nil {
			t.Fatal(err)
		} else if len(list) != 2 {
			t.Errorf("%d maintenances, want 2", len(list))
		}
	})
}

// TestIncidentUpdateDryRun asks what an update would send: the event,
// whether posting it now sends, to how many subscribers, the email; and
// checks that asking wrote nothing and refuses what posting refuses.
func TestIncidentUpdateDryRun(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{Previews: previews(t), Page: gateway.PageInfo{Name: "Eptura", URL: "https://status.example.com"}})
		e.publish(func(s *herhttp.Services) {
			s.Incidents = incidents.New(incidents.Options{Store: st, Log: storetest.Logger(t), PublicURL: "http://status.test"})
		})
		ctx := context.Background()
		app, space := gateway.Component{Name: "Hummingbird App"}, gateway.Component{Name: "Space Module"}
		for _, c := range []*gateway.Component{&app, &space} {
			if err := st.CreateComponent(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		storetest.AddSubscriber(t, st, storetest.Subscriber{Address: "page@example.com", All: true})
		storetest.AddSubscriber(t, st, storetest.Subscriber{Address: "app@example.com", Components: []string{app.ID}})
		storetest.AddSubscriber(t, st, storetest.Subscriber{Address: "space@example.com", Components: []string{space.ID}})
		storetest.AddSubscriber(t, st, storetest.Subscriber{Address: "pending@example.com", Status: gateway.SubscriberPending, All: true})
		support := gateway.RoleSupport

		declare := func(body string) string {
			t.Helper()
			r := e.do("POST", "/api/v1/incidents", support, body)
			var inc struct{ ID string }
			r.decode(t, &inc)
			if r.status != 201 {
				t.Fatalf("declare = %d %s", r.status, r.body)
			}
			return inc.ID
		}
		id := declare(`{"name":"Login problems","status":"investigating","body":"Looking into it.","components":{"Hummingbird App":"major_outage"}}`)
		draft := declare(`{"name":"Draft","status":"investigating","body":"Not yet.","draft":true}`)
		type dryRun struct {
			DryRun     bool   `json:"dry_run"`
			Event      string `json:"event"`
			Sends      bool   `json:"sends"`
			Recipients int    `json:"recipients"`
			Preview    *emailPreview
		}
		for _, tt := range []struct {
			name, id, body string
			want           dryRun
		}{
			{"update", id, `{"status":"identified","body":"Found it.","dry_run":true}`,
				dryRun{DryRun: true, Event: "incident.updated", Sends: true, Recipients: 2}},
			{"update adding a component", id, `{"status":"identified","body":"Found it.","components":{"Space Module":"partial_outage"},"dry_run":true}`,
				dryRun{DryRun: true, Event: "incident.updated", Sends: true, Recipients: 3}},
			{"resolve", id, `{"status":"resolved","body":"All clear.","dry_run":true}`,
				dryRun{DryRun: true, Event: "incident.resolved", Sends: true, Recipients: 2}},
			{"notify off", id, `{"status":"identified","body":"Found it.","notify":false,"dry_run":true}`,
				dryRun{DryRun: true, Event: "incident.updated", Sends: false, Recipients: 2}},
			{"draft", draft, `{"status":"identified","body":"Found it.","dry_run":true}`,
				dryRun{DryRun: true, Event: "incident.created", Sends: false, Recipients: 1}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do("POST", "/api/v1/incidents/"+tt.id+"/updates", support, tt.body)
				var got dryRun
				r.decode(t, &got)
				if r.status != 200 || got.Preview == nil || !strings.Contains(got.Preview.Text, "All clear.") && !strings.Contains(got.Preview.Text, "Found it.") {
					t.Fatalf("dry run = %d %s", r.status, r.body)
				}
				got.Preview = nil
				if got != tt.want {
					t.Errorf("dry run = %+v, want %+v", got, tt.want)
				}
			})
		}
		for _, tt := range []struct{ body, field string }{
			{`{"status":"in_progress","body":"x","dry_run":true}`, "status"},
			{`{"status":"identified","body":"x","components":{"Nope":"major_outage"},"dry_run":true}`, "components.Nope"},
		} {
			if r := e.do("POST", "/api/v1/incidents/"+id+"/updates", support, tt.body); r.status != 422 || !strings.Contains(r.body, `"`+tt.field+`"`) {
				t.Errorf("dry run %s = %d %s, want 422 naming %s", tt.body, r.status, r.body, tt.field)
			}
		}
		if r := e.do("POST", "/api/v1/incidents/"+id+"/updates", gateway.RoleViewer, `{"status":"identified","body":"x","dry_run":true}`); r.status != 403 {
			t.Errorf("a viewer's dry run = %d, want 403", r.status)
		}

		// Nothing was written: one update each, the draft unpublished,
		// Space Module untouched, and only the declaration's event.
		for _, iid := range []string{id, draft} {
			inc, err := st.Incident(ctx, iid)
			if err != nil {
				t.Fatal(err)
			}
			if len(inc.Updates) != 1 || inc.Status != gateway.Investigating || iid == draft && inc.Published {
				t.Errorf("a dry run wrote to %s: %d updates, %s, published %v", inc.Name, len(inc.Updates), inc.Status, inc.Published)
			}
		}
		if c, err := st.Component(ctx, "Space Module"); err != nil || c.Status != gateway.Operational {
			t.Errorf("a dry run set Space Module: %+v %v", c, err)
		}
		var events int
		if err := st.DB().QueryRow("SELECT COUNT(*) FROM events").Scan(&events); err != nil || events != 1 {
			t.Errorf("%d events after the dry runs (%v), want the declaration's only", events, err)
		}
	})
}

// TestIncidentRootCauseInTheAPI: an incident's root cause is
// {"component":{"id","name"},"inferred":bool}, null when it has none, in
// both the incident and the list.
func TestIncidentRootCauseInTheAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		e.publish(func(svc *herhttp.Services) {
			svc.Incidents = incidents.New(incidents.Options{Store: st, Log: storetest.Logger(t), PublicURL: "http://status.test"})
		})
		e.do("POST", "/api/v1/components", gateway.RoleAdmin, `{"name":"Hummingbird App"}`)
		e.do("POST", "/api/v1/components", gateway.RoleAdmin, `{"name":"DNS"}`)
		r := e.do("POST", "/api/v1/incidents", gateway.RoleSupport, `{"name":"Login problems","status":"investigating",
			"body":"Logins fail.","components":{"Hummingbird App":"major_outage"}}`)
		var inc struct {
			ID        string          `json:"id"`
			RootCause json.RawMessage `json:"root_cause"`
		}
		r.decode(t, &inc)
		if string(inc.RootCause) != "null" {
			t.Errorf("root_cause = %s, want null", inc.RootCause)
		}
		dns, err := st.Component(context.Background(), "DNS")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.InTx(context.Background(), func(tx *store.Tx) error {
			got, err := tx.Incident(inc.ID)
			if err != nil {
				return err
			}
			got.RootCause = &gateway.RootCause{Component: gateway.RootCauseComponent{ID: dns.ID}, Inferred: true}
			return tx.SaveIncident(got)
		}); err != nil {
			t.Fatal(err)
		}
		want := `{"component":{"id":"` + dns.ID + `","name":"DNS"},"inferred":true}`
		e.do("GET", "/api/v1/incidents/"+inc.ID, gateway.RoleViewer, "").decode(t, &inc)
		if string(inc.RootCause) != want {
			t.Errorf("root_cause = %s, want %s", inc.RootCause, want)
		}
		var list struct {
			Data []struct {
				RootCause json.RawMessage `json:"root_cause"`
			} `json:"data"`
		}
		e.do("GET", "/api/v1/incidents", gateway.RoleViewer, "").decode(t, &list)
		if len(list.Data) != 1 || string(list.Data[0].RootCause) != want {
			t.Errorf("list root_cause = %+v, want %s", list.Data, want)
		}
	})
}
