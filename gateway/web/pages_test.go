package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/gateway/web"
)

// wantIn fails for each want missing from body.
func wantIn(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func TestStatusPageShowsTheSeedOutage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		body := e.mustGet("/")
		wantIn(t, "a quiet page", body, "All Systems Operational", "Eptura Workplace", "No incidents reported.")

		inc := e.seedOutage()
		maint, err := e.svc.Schedule(e.ctx, support, incidents.NewMaintenance{Name: "Database upgrade", Body: "We will upgrade the database.",
			Components: []string{"Mail Module"}, ScheduledFor: e.clock().Add(48 * time.Hour), ScheduledUntil: e.clock().Add(50 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		body = e.mustGet("/")
		wantIn(t, "the page mid-outage", body,
			`<h1 id="overall">Major System Outage</h1>`, "banner-critical",
			`<a href="/incidents/`+inc.ID+`">Customers cannot reach their sites</a>`,
			`<strong class="word">Update</strong>`, `<strong class="word">Identified</strong>`, `<strong class="word">Investigating</strong>`,
			"iOFFICE is currently investigating an issue with customers site access.",
			"Posted <time datetime=\"2021-09-16T13:54:00Z\">Sep 16, 2021 - 13:54 UTC</time>",
			"This incident affects: Eptura Workplace Modules (Space Module, Move Module, Reservation Module, Service Request Module, "+
				"Asset Module, Inventory Module, Mail Module, Copy Module, Visitor Module, Insights Module) and Apps (Hummingbird App).",
			"Scheduled maintenance", `<a href="/incidents/`+maint.ID+`">Database upgrade</a>`, "Scheduled for",
			`<details class="group" open>`, `<span class="group-name">Eptura Workplace Modules</span>`,
			`<span class="status s-major-outage">Major Outage</span>`, `<span class="status s-degraded-performance">Degraded Performance</span>`,
			"The mobile app for iOS and Android.",
		)
		// The timeline is newest first: the seed's order.
		if a, b := strings.Index(body, "continuing to work on a fix"), strings.Index(body, "iOFFICE is currently"); a < 0 || a > b {
			t.Error("the timeline is not newest first")
		}
		// Every component has a 90-day bar; today's cell says what happened.
		if n := strings.Count(body, `<ol class="bar"`); n != 11 {
			t.Errorf("%d uptime bars, want 11", n)
		}
		if n := len(regexp.MustCompile(`<li class="d-[a-z-]+" data-tip=`).FindAllString(body, -1)); n != 11*web.UptimeDays {
			t.Errorf("%d days in the bars, want %d", n, 11*web.UptimeDays)
		}
		wantIn(t, "the uptime bars", body, `data-tip="Sep 16, 2021: Major Outage 1 h 57 min" tabindex="0"`,
			`data-tip="Sep 15, 2021: no data" aria-hidden="true"`)

		// Resolved, it moves to the past incidents, and the banner clears.
		e.advance(time.Hour)
		e.update(inc.ID, gateway.Resolved, "All systems have returned to a stable state.")
		body = e.mustGet("/")
		wantIn(t, "the page after the outage", body, "All Systems Operational", "Past incidents",
			"<strong>Resolved</strong> - All systems have returned to a stable state.")
		if strings.Contains(body, "This incident affects") {
			t.Error("a resolved incident is still shown as active")
		}
	})
}

func TestIncidentPermalinkRendersThePostmortemSafely(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		inc := e.seedOutage()
		e.update(inc.ID, gateway.Resolved, "All clear <b>now</b>.")
		pm := "**Root Cause:** DNS.\n\n- nodes restarted\n- [report](https://example.com/rca)\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2))"
		if _, err := e.svc.Postmortem(e.ctx, support, inc.ID, pm, false); err != nil {
			t.Fatal(err)
		}
		body := e.mustGet("/incidents/" + inc.ID)
		wantIn(t, "the permalink", body, "<h1>Customers cannot reach their sites</h1>", "Incident report for Eptura Workplace",
			"<h2 id=\"postmortem-heading\">Postmortem</h2>", "<strong>Root Cause:</strong> DNS.", "<li>nodes restarted</li>",
			`<a href="https://example.com/rca" rel="nofollow">report</a>`,
			"All clear &lt;b&gt;now&lt;/b&gt;.", "<strong class=\"word\">Resolved</strong>",
			"This incident affected: Eptura Workplace Modules (")
		for _, bad := range []string{"<script>alert", "javascript:", "<b>now</b>"} {
			if strings.Contains(body, bad) {
				t.Errorf("the permalink carries %q", bad)
			}
		}

		res, body := e.get("/incidents/nope")
		if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "Not Found") || !strings.Contains(res.Header.Get("Content-Type"), "text/html") ||
			res.Header.Get("ETag") != "" || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("unknown incident = %d %s, ETag %q, Cache-Control %q", res.StatusCode, res.Header.Get("Content-Type"),
				res.Header.Get("ETag"), res.Header.Get("Cache-Control"))
		}
		draft, err := e.svc.Create(e.ctx, support, incidents.NewIncident{Name: "Draft", Status: gateway.Investigating, Body: "x", Draft: true})
		if err != nil {
			t.Fatal(err)
		}
		if res, _ := e.get("/incidents/" + draft.ID); res.StatusCode != http.StatusNotFound {
			t.Errorf("a draft's permalink = %d, want 404", res.StatusCode)
		}
	})
}

func TestHistoryIsPaginatedByMonth(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		inc := e.seedOutage() // September 2021
		e.update(inc.ID, gateway.Resolved, "Resolved in September.")
		e.advance(30 * 24 * time.Hour) // October 2021
		if _, err := e.svc.Create(e.ctx, support, incidents.NewIncident{Name: "October slowness", Status: gateway.Investigating,
			Body: "Slow.", Components: map[string]gateway.ComponentStatus{"Space Module": gateway.DegradedPerformance}}); err != nil {
			t.Fatal(err)
		}

		oct := e.mustGet("/history")
		wantIn(t, "October", oct, "<h2 class=\"month\">October 2021</h2>", "October slowness", "ongoing",
			`<a rel="prev" href="/history?month=2021-09">`)
		if strings.Contains(oct, "Customers cannot reach") || strings.Contains(oct, `rel="next"`) {
			t.Error("October shows September's incident or a next month")
		}
		for _, q := range []string{"?month=2021-09", "?page=2"} {
			sep := e.mustGet("/history" + q)
			wantIn(t, "September "+q, sep, "September 2021", "Customers cannot reach their sites", "Resolved in September.",
				`<a rel="next" href="/history?month=2021-10">`)
			if strings.Contains(sep, "October slowness") || strings.Contains(sep, `rel="prev"`) {
				t.Errorf("September (%s) shows October's incident or an earlier month", q)
			}
		}
		if res, _ := e.get("/history?month=September"); res.StatusCode != http.StatusBadRequest {
			t.Errorf("a bad month = %d, want 400", res.StatusCode)
		}
	})
}

func TestPagesAnswer503UntilTheStoreIsReady(t *testing.T) {
	ec := echo.New()
	web.Register(ec, web.Options{Log: storetest.Logger(t)})
	for _, path := range []string{"/", "/history", "/incidents/x"} { // pages; the feeds and API in gateway/http
		rec := httptestRecorder(ec, path)
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("GET %s = %d, want 503", path, rec.Code)
		}
	}
	if rec := httptestRecorder(ec, "/"); rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "starting") {
		t.Errorf("the starting page: Retry-After %q, body %q", rec.Header().Get("Retry-After"), rec.Body.String())
	}
}
