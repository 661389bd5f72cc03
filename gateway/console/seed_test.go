package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/correlate"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/ingest"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/gateway/web"
)

// TestSeedOutageRunFromTheConsole runs the seed's outage the way a support
// engineer would, through the console's pages only: the DNS fault's alerts
// open one automatic incident; support sees it on the dashboard with the
// alerts behind each component, posts the seed's "identified" update with
// the hourly promise, is told when the promise is overdue, moves it to
// monitoring, resolves it and publishes the postmortem. The public page
// tells the same story, and the audit log names the person at each step.
func TestSeedOutageRunFromTheConsole(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			ctx := context.Background()
			decl := store.Declaration{Sources: []store.DeclaredSource{{Name: "prometheus", Kind: "alertmanager", Token: "prom-token-0123456789"}}}
			for i, name := range append(seedModules, "Hummingbird App") {
				decl.Components = append(decl.Components, store.DeclaredComponent{Name: name, Position: i})
				m, err := gateway.ParseMatcher("component=" + name)
				if err != nil {
					t.Fatal(err)
				}
				decl.Rules = append(decl.Rules, store.DeclaredRule{Matchers: []gateway.Matcher{m}, Components: []string{name},
					SeverityStatus: map[gateway.Severity]gateway.ComponentStatus{gateway.SeverityCritical: gateway.MajorOutage}})
			}
			if _, err := e.st.SyncConfig(ctx, decl); err != nil {
				t.Fatal(err)
			}

			// 8:15am CST: every module fails at once (one Alertmanager group).
			src, err := e.st.Source(ctx, "prometheus")
			if err != nil {
				t.Fatal(err)
			}
			var alerts []any
			now := time.Now().UTC()
			for _, name := range append(seedModules, "Hummingbird App") {
				alerts = append(alerts, map[string]any{"status": "firing", "fingerprint": "seed-" + strings.ReplaceAll(strings.ToLower(name), " ", "-"),
					"labels":      map[string]string{"alertname": "SiteUnreachable", "component": name, "severity": "critical"},
					"annotations": map[string]string{"summary": name + ": nodes not resolving in DNS"},
					"startsAt":    now.Format(time.RFC3339Nano), "endsAt": "0001-01-01T00:00:00Z"})
			}
			body, _ := json.Marshal(map[string]any{"version": "4", "status": "firing", "receiver": "herald", "alerts": alerts})
			in := ingest.New(e.st, ingest.Options{Log: storetest.Logger(t), RulesTTL: time.Nanosecond})
			if _, err := in.Ingest(ctx, src, body, "application/json", now); err != nil {
				t.Fatal(err)
			}
			automation := incidents.New(incidents.Options{Store: e.st, Log: storetest.Logger(t),
				Settings: correlate.Settings{MinAlerts: 1, Window: 30 * time.Minute, ResolveAfter: 15 * time.Minute}})
			if err := automation.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if err := automation.Reconcile(ctx); err != nil {
				t.Fatal(err)
			}

			support := e.signIn(gateway.RoleSupport)
			dash := support.get("/console")
			dash.wantStatus(t, http.StatusOK)
			dash.wantContains(t, "Insights Module: nodes not resolving in DNS") // the alert behind a component
			open, err := e.st.Incidents(ctx, store.IncidentFilter{Status: "open"})
			if err != nil || len(open) != 1 {
				t.Fatalf("open incidents: %v %v", open, err)
			}
			page := incidentPath(open[0].ID)
			dash.wantContains(t, `href="`+page+`"`)

			// 8:50am: support takes over, with the seed's promise.
			res := support.submit(page, page+"/updates", updateValues("post", "identified",
				"Our incident response team has identified the issue. Next update at 10:50am CST.", true))
			res.wantStatus(t, http.StatusOK)
			wantFlash(t, res, "Update posted")
			e.wantAudit(t, "incident.update", support.name)

			// The promise passes: the dashboard says the update is overdue.
			e.clock.Advance(61 * time.Minute)
			support.get("/console").wantContains(t, "overdue by")

			for _, step := range []struct{ status, body string }{
				{"identified", "The team continues to work on bringing services back online."},
				{"monitoring", "A fix has been implemented and we are monitoring the results."},
			} {
				res := support.submit(page, page+"/updates", updateValues("post", step.status, step.body, true))
				res.wantStatus(t, http.StatusOK)
				res.wantContains(t, step.body)
			}
			if due := support.get("/console"); strings.Contains(due.body, "overdue by") {
				t.Error("the dashboard still says the update is overdue after it was posted")
			}

			res = support.submit(page, page+"/resolve", url.Values{"body": {"All systems have returned to a stable state."}, "notify": {"on"}})
			res.wantStatus(t, http.StatusOK)
			wantFlash(t, res, "resolved")
			res = support.submit(page, page+"/postmortem", url.Values{"action": {"publish"}, "notify": {"on"},
				"body": {"## Root cause\n\nServer nodes did not resolve correctly in DNS."}})
			res.wantStatus(t, http.StatusOK)
			e.wantAudit(t, "incident.postmortem", support.name)

			got, err := e.st.Incident(ctx, open[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != gateway.Postmortem || got.PostmortemBody == "" || got.Automated && got.HumanAt.IsZero() {
				t.Errorf("after the console's steps: status %s, postmortem %q", got.Status, got.PostmortemBody)
			}
			var authors []string
			for _, u := range got.Updates {
				authors = append(authors, fmt.Sprintf("%s by %s", u.Status, u.Author))
			}
			if len(got.Updates) < 5 || got.Updates[0].Author != support.name {
				t.Errorf("updates: %v", authors)
			}

			// The public page tells the same story.
			pub := echo.New()
			web.Register(pub, web.Options{Page: gateway.PageInfo{Name: "Eptura Workplace"},
				Store: e.st, Now: time.Now, Log: storetest.Logger(t)})
			srv := httptest.NewServer(pub)
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/incidents/" + got.ID)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, want := range []string{"identified the issue", "monitoring the results", "stable state", "did not resolve correctly in DNS"} {
				if !strings.Contains(string(b), want) {
					t.Errorf("the public page lacks %q", want)
				}
			}
		})
	}
}
