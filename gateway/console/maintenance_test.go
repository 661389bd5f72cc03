package console

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// planRows are the rows of the "what will be sent when" table, as text.
func planRows(t *testing.T, body string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<table id="plan">.*?<tbody>(.*?)</tbody>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no plan in:\n%s", body)
	}
	var rows []string
	for _, r := range regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`).FindAllStringSubmatch(m[1], -1) {
		text := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(r[1], " ")
		rows = append(rows, strings.Join(strings.Fields(text), " "))
	}
	return rows
}

func wantRows(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("plan row %d: %q, want it to contain %q", i, got[i], want[i])
		}
	}
}

func TestMaintenanceScheduleEditCancel(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			f := seedBroadcastFixture(t, e.st)
			c := e.signIn(gateway.RoleSupport)

			// Refusals keep the form and say what is wrong.
			for _, tc := range []struct {
				name string
				form url.Values
				want string
			}{
				{"end before start", url.Values{"name": {"DB"}, "body": {"b"}, "components": {f.space}, "zone": {"UTC"},
					"starts": {"2030-06-01T10:00"}, "ends": {"2030-06-01T09:00"}}, "must be after"},
				{"unknown zone", url.Values{"name": {"DB"}, "body": {"b"}, "components": {f.space}, "zone": {"Mars/Olympus"},
					"starts": {"2030-06-01T10:00"}, "ends": {"2030-06-01T12:00"}}, "not a time zone"},
				{"no component", url.Values{"name": {"DB"}, "body": {"b"}, "zone": {"UTC"},
					"starts": {"2030-06-01T10:00"}, "ends": {"2030-06-01T12:00"}}, "at least one component"},
				{"not a time", url.Values{"name": {"DB"}, "body": {"b"}, "components": {f.space}, "zone": {"UTC"},
					"starts": {"tomorrow"}, "ends": {"2030-06-01T12:00"}}, "must be a date and time"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res := c.submit("/console/maintenances/new", "/console/maintenances", tc.form)
					res.wantStatus(t, http.StatusUnprocessableEntity)
					res.wantContains(t, tc.want)
					res.wantContains(t, `value="DB"`)
				})
			}

			// Scheduled in Paris time (summer: UTC+2), shown in UTC.
			res := c.submit("/console/maintenances/new", "/console/maintenances", url.Values{
				"name": {"Booking database upgrade"}, "body": {"Space booking is read-only during the upgrade."},
				"components": {f.space}, "zone": {"Europe/Paris"}, "starts": {"2030-06-01T10:00"}, "ends": {"2030-06-01T12:30"},
				"auto": {"on"}, "notify": {"on"}})
			res.wantStatus(t, http.StatusOK)
			res.wantContains(t, "Maintenance scheduled.")
			res.wantContains(t, "Sat 1 Jun 2030 08:00 UTC")
			res.wantContains(t, "Sat 1 Jun 2030 10:30 UTC")
			e.wantAudit(t, "maintenance.schedule", c.name)
			show := res.url.Path
			// The scheduled notice went out at once (its deliveries wait for
			// the dispatcher); started and completed follow at the times,
			// each to the 5 subscribers of Space Module now.
			wantRows(t, planRows(t, res.body), []string{
				"Scheduled notice (sent) being planned",
				"Sat 1 Jun 2030 08:00 UTC Maintenance started (will be sent) 5 now",
				"Sat 1 Jun 2030 10:30 UTC Maintenance completed (will be sent) 5 now",
			})
			list := c.get("/console/maintenances")
			list.wantContains(t, "Booking database upgrade")
			if i, j := strings.Index(list.body, `id="scheduled-title"`), strings.Index(list.body, "Booking database upgrade"); i < 0 || j < i {
				t.Error("the maintenance is not listed under Scheduled")
			}

			res = c.submit(show, show+"/reschedule", url.Values{"zone": {"UTC"}, "starts": {"2030-06-02T08:00"}, "ends": {"2030-06-02T09:00"}})
			res.wantStatus(t, http.StatusOK)
			res.wantContains(t, "Maintenance rescheduled.")
			res.wantContains(t, "Sun 2 Jun 2030 08:00 UTC")
			e.wantAudit(t, "maintenance.reschedule", c.name)
			res = c.submit(show, show+"/reschedule", url.Values{"zone": {"UTC"}, "starts": {"2030-06-02T08:00"}, "ends": {"2030-06-02T07:00"}})
			res.wantStatus(t, http.StatusUnprocessableEntity)
			res.wantContains(t, "must be after")

			res = c.submit(show, show+"/rename", url.Values{"name": {"Booking database upgrade (v16)"}})
			res.wantStatus(t, http.StatusOK)
			res.wantContains(t, "Maintenance renamed.")
			res.wantContains(t, "Booking database upgrade (v16)")
			e.wantAudit(t, "incident.edit", c.name)
			res = c.submit(show, show+"/rename", url.Values{"name": {" "}})
			res.wantStatus(t, http.StatusUnprocessableEntity)

			res = c.submit(show, show+"/updates", url.Values{"status": {"in_progress"}, "body": {"We have started early."}, "notify": {"on"}})
			res.wantStatus(t, http.StatusOK)
			res.wantContains(t, "Update posted.")
			res.wantContains(t, `<dd id="status">in_progress</dd>`)
			res.wantContains(t, "We have started early.")
			wantRows(t, planRows(t, res.body), []string{
				"Scheduled notice (sent)",
				"Maintenance started (sent)",
				"Sun 2 Jun 2030 09:00 UTC Maintenance completed (will be sent) 5 now",
			})

			res = c.submit(show, show+"/cancel", url.Values{"notify": {"on"}})
			res.wantStatus(t, http.StatusOK)
			res.wantContains(t, "Maintenance cancelled.")
			res.wantContains(t, `<dd id="status">completed</dd>`)
			res.wantContains(t, "This maintenance has been cancelled.")
			e.wantAudit(t, "maintenance.cancel", c.name)
			wantRows(t, planRows(t, res.body), []string{"Scheduled notice (sent)", "Maintenance started (sent)", "Maintenance completed (sent)"})
			if strings.Contains(res.body, `id="cancel"`) {
				t.Error("a completed maintenance still offers to cancel")
			}
		})
	}
}

func TestMaintenanceWithoutAutoTransitionSendsNothingByItself(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			f := seedBroadcastFixture(t, e.st)
			c := e.signIn(gateway.RoleSupport)
			res := c.submit("/console/maintenances/new", "/console/maintenances", url.Values{
				"name": {"Quiet window"}, "body": {"b"}, "components": {f.app}, "zone": {"UTC"},
				"starts": {"2030-06-01T10:00"}, "ends": {"2030-06-01T12:00"}})
			res.wantStatus(t, http.StatusOK)
			res.wantContains(t, `id="plan-manual"`)
			wantRows(t, planRows(t, res.body), []string{"Nothing has been sent and nothing is planned."})
		})
	}
}

func TestMaintenanceRefusesViewersAndIncidents(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			f := seedBroadcastFixture(t, e.st)
			ctx := context.Background()
			m, err := e.inc.Schedule(ctx, gateway.Principal{Name: "Lead", Role: gateway.RoleAdmin}, incidents.NewMaintenance{
				Name: "Move Module upgrade", Body: "b", Components: []string{f.move},
				ScheduledFor: e.clock.Now().Add(48 * time.Hour), ScheduledUntil: e.clock.Now().Add(50 * time.Hour), AutoTransition: true})
			if err != nil {
				t.Fatal(err)
			}
			inc, err := e.inc.Create(ctx, gateway.Principal{Name: "Lead", Role: gateway.RoleAdmin}, incidents.NewIncident{
				Name: "Outage", Status: gateway.Investigating, Body: "b"})
			if err != nil {
				t.Fatal(err)
			}
			show := "/console/maintenances/" + m.ID

			viewer := e.signIn(gateway.RoleViewer)
			page := viewer.get(show)
			page.wantStatus(t, http.StatusOK)
			page.wantContains(t, "Move Module upgrade")
			for _, form := range []string{`id="update"`, `id="reschedule"`, `id="cancel"`} {
				if strings.Contains(page.body, form) {
					t.Errorf("a viewer is offered %s", form)
				}
			}
			viewer.get("/console/maintenances/new").wantStatus(t, http.StatusForbidden)
			token := url.Values{"_csrf": {viewer.csrf(show)}, "notify": {"on"}, "status": {"completed"}, "body": {"x"},
				"zone": {"UTC"}, "starts": {"2030-06-02T08:00"}, "ends": {"2030-06-02T09:00"}, "name": {"x"}, "components": {f.move}}
			for _, path := range []string{"/console/maintenances", show + "/cancel", show + "/updates", show + "/reschedule"} {
				viewer.post(path, token).wantStatus(t, http.StatusForbidden)
			}
			got, err := e.st.Incident(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != gateway.MaintenanceScheduled || !got.ScheduledFor.Equal(m.ScheduledFor) || len(got.Updates) != 1 {
				t.Errorf("a viewer changed the maintenance: %s, %s, %d updates", got.Status, got.ScheduledFor, len(got.Updates))
			}

			// An incident is not a maintenance, here as in the API.
			support := e.signIn(gateway.RoleSupport)
			support.get("/console/maintenances/"+inc.ID).wantStatus(t, http.StatusNotFound)
			support.submit(show, "/console/maintenances/"+inc.ID+"/cancel", url.Values{"notify": {"on"}}).wantStatus(t, http.StatusNotFound)
			if got, err := e.st.Incident(ctx, inc.ID); err != nil {
				t.Fatal(err)
			} else if got.Status != gateway.Investigating {
				t.Errorf("the incident became %s", got.Status)
			}
		})
	}
}

// TestMaintenanceFormsPostOnce posts the schedule form and the update form
// twice each, as a double click or a resubmit after "back" does: one
// maintenance, one update, one notice each.
func TestMaintenanceFormsPostOnce(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			f := seedBroadcastFixture(t, e.st)
			c := e.signIn(gateway.RoleSupport)
			ctx := context.Background()
			key := regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`)

			newPage := c.get("/console/maintenances/new")
			m := key.FindStringSubmatch(newPage.body)
			if m == nil {
				t.Fatal("the schedule form has no idempotency key")
			}
			form := url.Values{"name": {"Booking database upgrade"}, "body": {"Read-only during the upgrade."},
				"components": {f.space}, "zone": {"UTC"}, "starts": {"2030-06-01T10:00"}, "ends": {"2030-06-01T12:00"},
				"notify": {"on"}, "idempotency_key": {m[1]}}
			var shows []string
			for range 2 {
				res := c.submit("/console/maintenances/new", "/console/maintenances", form)
				res.wantStatus(t, http.StatusOK)
				shows = append(shows, res.url.Path)
			}
			if shows[0] != shows[1] {
				t.Errorf("the same form scheduled %s and %s", shows[0], shows[1])
			}
			list, err := e.st.Incidents(ctx, store.IncidentFilter{Kind: gateway.KindMaintenance})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 {
				t.Fatalf("%d maintenances after posting one form twice, want 1", len(list))
			}
			// A refused form keeps its key, so its corrected post is still
			// the one maintenance.
			refused := c.submit("/console/maintenances/new", "/console/maintenances", url.Values{"name": {"Other"}, "body": {"b"},
				"zone": {"UTC"}, "starts": {"2030-06-01T10:00"}, "ends": {"2030-06-01T12:00"}, "idempotency_key": {"console-refused"}})
			refused.wantStatus(t, http.StatusUnprocessableEntity)
			refused.wantContains(t, `value="console-refused"`)

			show := shows[0]
			page := c.get(show)
			u := key.FindStringSubmatch(page.body)
			if u == nil {
				t.Fatal("the update form has no idempotency key")
			}
			update := url.Values{"status": {"in_progress"}, "body": {"We have started."}, "notify": {"on"}, "idempotency_key": {u[1]}}
			for range 2 {
				c.submit(show, show+"/updates", update).wantStatus(t, http.StatusOK)
			}
			got, err := e.st.Incident(ctx, list[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Updates) != 2 {
				t.Errorf("%d updates (the scheduled one and the posted one twice?), want 2", len(got.Updates))
			}
			var events int
			if err := e.st.DB().QueryRow("SELECT COUNT(*) FROM events WHERE incident_id = '" + got.ID + "'").Scan(&events); err != nil || events != 2 {
				t.Errorf("%d notices (%v), want 2: scheduled and started", events, err)
			}
			if fresh := c.get(show); strings.Contains(fresh.body, u[1]) {
				t.Error("the page after posting offers the used key again")
			}
		})
	}
}
