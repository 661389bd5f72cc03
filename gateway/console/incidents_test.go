package console

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/correlate"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/ingest"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/gateway/web"
	"github.com/heraldstatus/herald/templates"
)

// The demo page (docs/examples/herald.yml: Eptura Workplace, 2021-09-16): ten
// modules of one product and a mobile app.
var seedModules = []string{"Space Module", "Move Module", "Reservation Module", "Service Request Module", "Asset Module",
	"Inventory Module", "Mail Module", "Copy Module", "Visitor Module", "Insights Module"}

// seedPage declares the seed's components and returns their ids by name.
func seedPage(t testing.TB, st *store.Store) map[string]string {
	t.Helper()
	d := store.Declaration{Groups: []store.DeclaredGroup{{Name: "Eptura Workplace Modules"}, {Name: "Apps", Position: 1}}}
	for i, m := range seedModules {
		d.Components = append(d.Components, store.DeclaredComponent{Name: m, Group: "Eptura Workplace Modules", Position: i})
	}
	d.Components = append(d.Components, store.DeclaredComponent{Name: "Hummingbird App", Group: "Apps"})
	if _, err := st.SyncConfig(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	comps, err := st.Components(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, c := range comps {
		ids[c.Name] = c.ID
	}
	return ids
}

// seedIncident opens the seed's incident as support did at 13:54 UTC.
func seedIncident(t testing.TB, svc *incidents.Service, draft bool) *gateway.Incident {
	t.Helper()
	inc, err := svc.Create(context.Background(), gateway.Principal{Kind: "user", Name: "Seed Support", Role: gateway.RoleSupport},
		incidents.NewIncident{Name: "Customers cannot access their sites", Status: gateway.Investigating,
			Body: "iOFFICE is currently investigating an issue with customers site access.", Notify: true, Draft: draft,
			Components: map[string]gateway.ComponentStatus{"Space Module": gateway.MajorOutage}})
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// withPreviews gives the console the templates and webhook builder
// `herald serve` gives it.
func withPreviews(t testing.TB) envOption {
	t.Helper()
	tmpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	hook, err := webhook.New(webhook.Options{Client: webhook.NewClient(webhook.ClientOptions{}), Templates: tmpl})
	if err != nil {
		t.Fatal(err)
	}
	return withOptions(func(o *Options) {
		o.Templates, o.WebhookBody = tmpl, hook.Body
		o.Page = gateway.PageInfo{Name: "Eptura Workplace", URL: "https://status.example.com"}
	})
}

var flashText = regexp.MustCompile(`id="flash">([^<]*)<`)

func wantFlash(t *testing.T, res response, want string) {
	t.Helper()
	m := flashText.FindStringSubmatch(res.body)
	if m == nil || !strings.Contains(m[1], want) {
		t.Fatalf("flash %q, want %q; status %d", m, want, res.status)
	}
}

// updateForm is the update form as a person fills it in.
func updateValues(action, status, body string, notify bool) url.Values {
	v := url.Values{"action": {action}, "status": {status}, "body": {body}, "next_update_in": {"60"}}
	if notify {
		v.Set("notify", "on")
	}
	return v
}

func TestIncidentScreen(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d, withPreviews(t))
			ids := seedPage(t, e.st)
			inc := seedIncident(t, e.inc, false)
			page := incidentPath(inc.ID)
			support := e.signIn(gateway.RoleSupport)

			t.Run("list", func(t *testing.T) {
				res := support.get("/console/incidents")
				res.wantStatus(t, http.StatusOK)
				res.wantContains(t, inc.Name)
				res.wantContains(t, `href="/console/incidents/new"`)
			})

			t.Run("preview renders without posting", func(t *testing.T) {
				// Recipients: the incident's component, the component the
				// update adds, not a pending subscriber, not another one.
				storetest.AddSubscriber(t, e.st, storetest.Subscriber{Address: "space@example.com", Components: []string{ids["Space Module"]}})
				storetest.AddSubscriber(t, e.st, storetest.Subscriber{Address: "app@example.com", Components: []string{ids["Hummingbird App"]}})
				storetest.AddSubscriber(t, e.st, storetest.Subscriber{Address: "pending@example.com", Status: gateway.SubscriberPending, All: true})
				storetest.AddSubscriber(t, e.st, storetest.Subscriber{Address: "mail@example.com", Components: []string{ids["Mail Module"]}})
				form := updateValues("preview", "identified", "", true)
				form.Set("template", "identified")
				form.Set(componentField+ids["Hummingbird App"], string(gateway.PartialOutage))
				res := support.submit(page, page+"/updates", form)
				res.wantStatus(t, http.StatusOK)
				res.wantContains(t, `id="preview-subject"`)
				res.wantContains(t, "We have identified the cause of the problem")
				res.wantContains(t, `id="preview-webhook-generic"`)
				res.wantContains(t, `id="preview-webhook-statuspage"`)
				res.wantContains(t, "Hummingbird App")
				res.wantContains(t, "It goes to 2 subscribers (as of now).")
				// The chosen status stays selected for the real post.
				res.wantContains(t, `<option value="partial_outage" selected>`)
				got, err := e.st.Incident(context.Background(), inc.ID)
				if err != nil {
					t.Fatal(err)
				}
				if len(got.Updates) != 1 || got.Status != gateway.Investigating {
					t.Errorf("a preview wrote: %d updates, status %s", len(got.Updates), got.Status)
				}
			})

			t.Run("post update", func(t *testing.T) {
				form := updateValues("post", "identified", "Our incident response team has identified the issue.", true)
				form.Set(componentField+ids["Hummingbird App"], string(gateway.PartialOutage))
				res := support.submit(page, page+"/updates", form)
				res.wantStatus(t, http.StatusOK)
				wantFlash(t, res, "Update posted")
				res.wantContains(t, "Our incident response team has identified the issue.")
				e.wantAudit(t, "incident.update", support.name)
				got, err := e.st.Incident(context.Background(), inc.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != gateway.Identified || got.Components[ids["Hummingbird App"]] != gateway.PartialOutage {
					t.Errorf("after the update: status %s, components %v", got.Status, got.Components)
				}
				if got.NextUpdateAt.IsZero() {
					t.Error("the next update promise was not kept")
				}
				// The timeline shows the update with its author and the
				// notification it sent.
				res.wantContains(t, "by "+support.name)
				res.wantContains(t, "Notification incident.updated")
			})

			t.Run("a form posts once", func(t *testing.T) {
				// The page's form carries its own idempotency key; posting
				// it again (a double click, a resubmit after "back") adds
				// no update and sends nothing more.
				res := support.get(page)
				m := regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`).FindStringSubmatch(res.body)
				if m == nil {
					t.Fatal("the update form has no idempotency key")
				}
				before, err := e.st.Incident(context.Background(), inc.ID)
				if err != nil {
					t.Fatal(err)
				}
				form := updateValues("post", "identified", "Posted once however often it is sent.", true)
				form.Set("idempotency_key", m[1])
				for range 2 {
					support.submit(page, page+"/updates", form).wantStatus(t, http.StatusOK)
				}
				after, err := e.st.Incident(context.Background(), inc.ID)
				if err != nil {
					t.Fatal(err)
				}
				if len(after.Updates) != len(before.Updates)+1 {
					t.Errorf("%d updates after posting one form twice, want %d", len(after.Updates), len(before.Updates)+1)
				}
				if fresh := support.get(page); strings.Contains(fresh.body, m[1]) {
					t.Error("the page after posting offers the used key again")
				}
			})

			t.Run("update appears on the status page", func(t *testing.T) {
				pub := echo.New()
				web.Register(pub, web.Options{Page: gateway.PageInfo{Name: "Eptura Workplace"},
					Store: e.st, Now: time.Now, Log: storetest.Logger(t)})
				srv := httptest.NewServer(pub)
				defer srv.Close()
				for _, path := range []string{"/", "/incidents/" + inc.ID} {
					res, err := http.Get(srv.URL + path)
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "Our incident response team has identified the issue.") {
						t.Errorf("GET %s: %d, the update is missing", path, res.StatusCode)
					}
				}
			})

			t.Run("refused update keeps the words", func(t *testing.T) {
				form := updateValues("post", "postmortem", "Words typed at 2 a.m.", false)
				res := support.submit(page, page+"/updates", form)
				res.wantStatus(t, http.StatusUnprocessableEntity)
				res.wantContains(t, `id="form-error"`)
				res.wantContains(t, "Words typed at 2 a.m.")
			})

			t.Run("viewer cannot post", func(t *testing.T) {
				viewer := e.signIn(gateway.RoleViewer)
				res := viewer.get(page)
				res.wantStatus(t, http.StatusOK)
				if strings.Contains(res.body, `id="update"`) || strings.Contains(res.body, `id="resolve"`) {
					t.Error("a viewer sees the update or resolve form")
				}
				// The logout form's token is valid: only the role refuses.
				res = viewer.submit(page, page+"/updates", updateValues("post", "monitoring", "Viewer words", true))
				res.wantStatus(t, http.StatusForbidden)
				res = viewer.submit(page, page+"/resolve", url.Values{})
				res.wantStatus(t, http.StatusForbidden)
			})

			t.Run("CSRF token required", func(t *testing.T) {
				res := support.post(page+"/updates", updateValues("post", "monitoring", "Forged words", true))
				res.wantStatus(t, http.StatusForbidden)
				res = support.post(page+"/resolve", url.Values{})
				res.wantStatus(t, http.StatusForbidden)
				got, err := e.st.Incident(context.Background(), inc.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range got.Updates {
					if u.Body == "Forged words" {
						t.Fatal("a forged update was posted")
					}
				}
			})

			t.Run("postmortem refused while open", func(t *testing.T) {
				res := support.submit(page, page+"/postmortem", url.Values{"body": {"Too early"}, "action": {"publish"}})
				res.wantStatus(t, http.StatusUnprocessableEntity)
				res.wantContains(t, "Resolve the incident before")
			})

			t.Run("resolve", func(t *testing.T) {
				res := support.submit(page, page+"/resolve", url.Values{"notify": {"on"}})
				res.wantStatus(t, http.StatusOK)
				wantFlash(t, res, "Incident resolved")
				res.wantContains(t, defaultResolveText)
				e.wantAudit(t, "incident.update", support.name)
			})

			t.Run("postmortem preview escapes HTML", func(t *testing.T) {
				md := "## Root cause\n\nNodes did **not** resolve DNS.\n\n<script>alert('x')</script>\n\n[link](javascript:alert(1))"
				res := support.submit(page, page+"/postmortem", url.Values{"body": {md}, "action": {"preview"}})
				res.wantStatus(t, http.StatusOK)
				res.wantContains(t, `id="postmortem-preview"`)
				res.wantContains(t, "<strong>not</strong>")
				res.wantContains(t, "<h2")
				preview := res.body[strings.Index(res.body, `id="postmortem-preview"`):]
				if strings.Contains(preview, "<script>") || strings.Contains(preview, "javascript:") {
					t.Errorf("the preview lets HTML through:\n%s", preview)
				}
				// The textarea keeps the Markdown, escaped.
				res.wantContains(t, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")
				got, err := e.st.Incident(context.Background(), inc.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.PostmortemBody != "" {
					t.Error("a preview published the postmortem")
				}
			})

			t.Run("postmortem publish", func(t *testing.T) {
				res := support.submit(page, page+"/postmortem", url.Values{"body": {"## Root cause\n\nDNS."}, "action": {"publish"}})
				res.wantStatus(t, http.StatusOK)
				wantFlash(t, res, "Postmortem published")
				e.wantAudit(t, "incident.postmortem", support.name)
				got, err := e.st.Incident(context.Background(), inc.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != gateway.Postmortem || got.PostmortemBody == "" {
					t.Errorf("status %s, postmortem %q", got.Status, got.PostmortemBody)
				}
			})

			t.Run("unknown incident", func(t *testing.T) {
				support.get("/console/incidents/nonexistent").wantStatus(t, http.StatusNotFound)
			})
		})
	}
}

func TestDeclareAndPublishDraft(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			ids := seedPage(t, e.st)
			support := e.signIn(gateway.RoleSupport)
			form := url.Values{"name": {"Hummingbird logins fail"}, "status": {"investigating"}, "impact": {""},
				"body": {"We are looking into failed logins on the app."}, "notify": {"on"}, "draft": {"on"},
				"next_update_in": {"60"}, componentField + ids["Hummingbird App"]: {"major_outage"}}
			res := support.submit("/console/incidents/new", "/console/incidents", form)
			res.wantStatus(t, http.StatusOK)
			wantFlash(t, res, "Draft saved")
			res.wantContains(t, `id="publish"`)
			e.wantAudit(t, "incident.create", support.name)
			id := strings.TrimPrefix(res.url.Path, "/console/incidents/")

			inc, err := e.st.Incident(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if inc.Published || inc.Impact != gateway.ImpactCritical || inc.Components[ids["Hummingbird App"]] != gateway.MajorOutage {
				t.Fatalf("declared: published %v, impact %s, components %v", inc.Published, inc.Impact, inc.Components)
			}
			if evs, err := e.st.IncidentEvents(context.Background(), id, 10); err != nil {
				t.Fatal(err)
			} else if len(evs) != 0 {
				t.Fatalf("a draft wrote %d events", len(evs))
			}
			// Nothing public moved; the page says what publishing will.
			if c, err := e.st.Component(context.Background(), "Hummingbird App"); err != nil || c.Status != gateway.Operational {
				t.Fatalf("the draft's component shows %v (%v), want operational until published", c, err)
			}
			res.wantContains(t, `id="publish-preview"`)
			res.wantContains(t, "sends incident.created to")
			res.wantContains(t, "<li>Hummingbird App: Operational → Major outage</li>")
			// The dashboard lists the draft first, highlighted.
			dash := support.get("/console")
			dash.wantContains(t, `<tr class="draft">`)

			res = support.submit(res.url.Path, res.url.Path+"/publish", url.Values{})
			res.wantStatus(t, http.StatusOK)
			wantFlash(t, res, "Published")
			e.wantAudit(t, "incident.publish", support.name)
			if strings.Contains(res.body, `id="publish"`) {
				t.Error("the publish form is still shown")
			}
			evs, err := e.st.IncidentEvents(context.Background(), id, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].Type != gateway.EventIncidentCreated {
				t.Errorf("after publishing: %d events %v", len(evs), evs)
			}
			if c, err := e.st.Component(context.Background(), "Hummingbird App"); err != nil || c.Status != gateway.MajorOutage {
				t.Errorf("published, the component shows %v (%v), want major_outage", c, err)
			}

			// A declaration without a title shows the form again.
			res = support.submit("/console/incidents/new", "/console/incidents", url.Values{"status": {"investigating"}, "body": {"kept"}})
			res.wantStatus(t, http.StatusUnprocessableEntity)
			res.wantContains(t, `id="form-error"`)
			res.wantContains(t, ">kept</textarea>")
		})
	}
}

func TestDashboard(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			seedPage(t, e.st)
			ctx := context.Background()
			who := gateway.Principal{Kind: "user", Name: "Seed Support", Role: gateway.RoleSupport}
			// The seed promised the next update within the hour: one
			// promise already broken, one kept for later.
			late, err := e.inc.Create(ctx, who, incidents.NewIncident{Name: "Site access down", Status: gateway.Identified,
				Body: "Identified.", Notify: true, NextUpdateAt: e.clock.Now().Add(-20 * time.Minute),
				Components: map[string]gateway.ComponentStatus{"Space Module": gateway.MajorOutage}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.inc.Create(ctx, who, incidents.NewIncident{Name: "Reports slow", Status: gateway.Investigating,
				Body: "Looking.", Notify: true, NextUpdateAt: e.clock.Now().Add(3 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
			// A subscriber, so the incident's notice has a delivery to make.
			storetest.AddSubscriber(t, e.st, storetest.Subscriber{Address: "reader@example.com", All: true})
			evs, err := e.st.IncidentEvents(ctx, late.ID, 10)
			if err != nil || len(evs) != 1 {
				t.Fatalf("events: %v %v", evs, err)
			}
			if n, err := e.st.PlanEvent(ctx, evs[0].ID); err != nil || n != 1 {
				t.Fatalf("plan: %d %v", n, err)
			}

			viewer := e.signIn(gateway.RoleViewer)
			res := viewer.get("/console")
			res.wantStatus(t, http.StatusOK)
			res.wantContains(t, `<meta http-equiv="refresh" content="30">`)
			res.wantContains(t, "Site access down")
			res.wantContains(t, "Reports slow")
			res.wantContains(t, "overdue by 20 min")
			if strings.Count(res.body, "overdue by") != 1 || strings.Contains(res.body, "Reports slow</a>:") {
				t.Error("an update due in three hours is listed as due")
			}
			res.wantContains(t, "Space Module")
			res.wantContains(t, "Major outage")
			// The fan-out: one queued delivery of the incident's notice.
			fan := res.body[strings.Index(res.body, `id="fanouts"`):]
			if !strings.Contains(fan, "Site access down (incident.created)") || !strings.Contains(fan, "<td>0</td><td>0</td><td>1</td><td>1</td>") {
				t.Errorf("fan-outs:\n%s", fan)
			}
			// A viewer gets no "declare" link.
			if strings.Contains(res.body, `href="/console/incidents/new"`) {
				t.Error("a viewer is offered to declare an incident")
			}
			// Forms never refresh themselves (typing would be lost).
			if page := viewer.get(incidentPath(late.ID)); strings.Contains(page.body, "http-equiv") {
				t.Error("the incident page refreshes itself")
			}
		})
	}
}

// TestAlertsOnTheTimelineAndDashboard feeds a real Alertmanager webhook
// (the shared sample, kept in the alertmanager source's testdata) through ingest and correlation: the incident it
// opens shows the alert joining and automation's words on its timeline,
// and the dashboard shows the alert behind its component, linked to the
// source and fingerprint.
func TestAlertsOnTheTimelineAndDashboard(t *testing.T) {
	body, err := os.ReadFile("../sources/alertmanager/testdata/alertmanager-firing-single.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			ctx := context.Background()
			m, err := gateway.ParseMatcher("service=db")
			if err != nil {
				t.Fatal(err)
			}
			decl := store.Declaration{Components: []store.DeclaredComponent{{Name: "Space Module"}, {Name: "Hummingbird App", Position: 1}},
				Sources: []store.DeclaredSource{{Name: "prometheus", Kind: "alertmanager", Token: "prom-token-0123456789"}},
				Rules: []store.DeclaredRule{{Matchers: []gateway.Matcher{m}, Components: []string{"Space Module"},
					SeverityStatus: map[gateway.Severity]gateway.ComponentStatus{gateway.SeverityCritical: gateway.MajorOutage,
						gateway.SeverityError: gateway.MajorOutage, gateway.SeverityWarning: gateway.MajorOutage, gateway.SeverityInfo: gateway.MajorOutage}}}}
			if _, err := e.st.SyncConfig(ctx, decl); err != nil {
				t.Fatal(err)
			}
			src, err := e.st.Source(ctx, "prometheus")
			if err != nil {
				t.Fatal(err)
			}
			in := ingest.New(e.st, ingest.Options{Log: storetest.Logger(t), RulesTTL: time.Nanosecond})
			if _, err := in.Ingest(ctx, src, body, "application/json", time.Now()); err != nil {
				t.Fatal(err)
			}
			svc := incidents.New(incidents.Options{Store: e.st, Log: storetest.Logger(t),
				Settings: correlate.Settings{MinAlerts: 1, Window: 30 * time.Minute, ResolveAfter: 15 * time.Minute,
					FlapChanges: 4, FlapWindow: 30 * time.Minute}})
			if err := svc.Start(ctx); err != nil {
				t.Fatal(err)
			}
			for range 5 { // a timer may schedule another that is due at once
				if n, err := svc.Tick(ctx); err != nil {
					t.Fatal(err)
				} else if n == 0 {
					break
				}
			}
			list, err := e.st.Incidents(ctx, store.IncidentFilter{Status: "open"})
			if err != nil || len(list) != 1 || !list[0].Automated {
				t.Fatalf("incidents: %v %v", list, err)
			}

			viewer := e.signIn(gateway.RoleViewer)
			alerts, err := e.st.Alerts(ctx, store.AlertFilter{Fingerprint: "145b0bf2ce4fbb98"})
			if err != nil || len(alerts) != 1 {
				t.Fatalf("alerts: %v %v", alerts, err)
			}
			link := `href="` + alertPath(alerts[0].ID) + `"`
			res := viewer.get(incidentPath(list[0].ID))
			res.wantStatus(t, http.StatusOK)
			res.wantContains(t, "Alert joined")
			res.wantContains(t, "disk 91% full")
			res.wantContains(t, link)
			res.wantContains(t, "Automatic: Investigating")
			if strings.Index(res.body, "Alert joined") > strings.Index(res.body, "Automatic: Investigating") {
				t.Error("the timeline is not in time order: the alert joins before automation speaks")
			}
			dash := viewer.get("/console")
			dash.wantContains(t, link)
			dash.wantContains(t, "automated")
			// The link leads to the alert: its source, fingerprint, labels
			// and the payload as received.
			alert := viewer.get(alertPath(alerts[0].ID))
			alert.wantStatus(t, http.StatusOK)
			alert.wantContains(t, `<dd id="alert-source">prometheus</dd>`)
			alert.wantContains(t, `<code id="alert-fingerprint">145b0bf2ce4fbb98</code>`)
			alert.wantContains(t, "<dt>service</dt><dd>db</dd>")
			alert.wantContains(t, "Space Module: Major outage")
			alert.wantContains(t, `href="/console/incidents/`+list[0].ID+`"`)
			viewer.get("/console/incidents/alerts/999999").wantStatus(t, http.StatusNotFound)
		})
	}
}

// TestIncidentScreenNamesTheRootCause: support sees the cause automation
// named, and whether it is only inferred.
func TestIncidentScreenNamesTheRootCause(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			seedPage(t, e.st)
			inc := seedIncident(t, e.inc, false)
			support := e.signIn(gateway.RoleSupport)
			if res := support.get(incidentPath(inc.ID)); strings.Contains(res.body, `id="root-cause"`) {
				t.Error("an incident without a root cause names one")
			}
			ctx := context.Background()
			if err := e.st.CreateComponent(ctx, &gateway.Component{Name: "DNS"}); err != nil {
				t.Fatal(err)
			}
			dns, err := e.st.Component(ctx, "DNS")
			if err != nil {
				t.Fatal(err)
			}
			for _, tt := range []struct {
				inferred bool
				want     string
			}{{true, "Probable cause: DNS (inferred"}, {false, `<p id="root-cause">Cause: DNS</p>`}} {
				if err := e.st.InTx(ctx, func(tx *store.Tx) error {
					got, err := tx.Incident(inc.ID)
					if err != nil {
						return err
					}
					got.RootCause = &gateway.RootCause{Component: gateway.RootCauseComponent{ID: dns.ID}, Inferred: tt.inferred}
					return tx.SaveIncident(got)
				}); err != nil {
					t.Fatal(err)
				}
				res := support.get(incidentPath(inc.ID))
				res.wantStatus(t, http.StatusOK)
				res.wantContains(t, tt.want)
			}
		})
	}
}
