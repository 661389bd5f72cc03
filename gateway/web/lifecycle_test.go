package web_test

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/config"
	"github.com/heraldstatus/herald/gateway/correlate"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/ingest"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// syncYAML loads a config file's components as herald serve does and
// syncs them into st.
func syncYAML(t *testing.T, st *store.Store, yml string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "herald.yml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	var d store.Declaration
	for _, g := range cfg.GroupDecls() {
		d.Groups = append(d.Groups, store.DeclaredGroup{Name: g.Name, Description: g.Description, Position: g.Position})
	}
	for _, c := range cfg.ComponentDecls() {
		d.Components = append(d.Components, store.DeclaredComponent{Name: c.Name, Group: c.Group, Position: c.Position})
	}
	if _, err := st.SyncConfig(t.Context(), d); err != nil {
		t.Fatal(err)
	}
}

// inOrder fails unless each of want occurs in body after the one before.
func inOrder(t *testing.T, what, body string, want ...string) {
	t.Helper()
	at := 0
	for _, w := range want {
		i := strings.Index(body[at:], w)
		if i < 0 {
			t.Errorf("%s: %q is missing or out of order (want %q)", what, w, want)
			return
		}
		at += i + len(w)
	}
}

func TestPageOrdersGroupsAndComponentsAsTheConfigDeclares(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		// The env's page has two groups (positions 0 and 1); the file adds
		// a lone component between them and a group after it.
		syncYAML(t, st, `
page: {name: Eptura Workplace}
components:
  - group: Eptura Workplace Modules
    components: [Space Module]
  - name: Public API
  - group: Apps
    components: [Hummingbird App]
  - group: Partners
    components: [Partner Portal]
  - name: Status Widget
`)
		body := e.mustGet("/")
		inOrder(t, "the page", body, `<span class="group-name">Eptura Workplace Modules</span>`, ">Public API<",
			`<span class="group-name">Apps</span>`, `<span class="group-name">Partners</span>`, ">Status Widget<")

		var summary struct {
			Components []struct {
				Name  string `json:"name"`
				Group bool   `json:"group"`
			} `json:"components"`
		}
		if err := json.Unmarshal([]byte(e.mustGet("/api/v2/components.json")), &summary); err != nil {
			t.Fatal(err)
		}
		var top []string
		for _, c := range summary.Components {
			if c.Group || c.Name == "Public API" || c.Name == "Status Widget" {
				top = append(top, c.Name)
			}
		}
		if got, want := strings.Join(top, ", "), "Eptura Workplace Modules, Public API, Apps, Partners, Status Widget"; got != want {
			t.Errorf("API v2 top level = %s, want %s", got, want)
		}

		// A group made through the API goes after everything on the page.
		g := gateway.ComponentGroup{Name: "Late Group", Position: -1}
		if err := st.CreateComponentGroup(e.ctx, &g); err != nil {
			t.Fatal(err)
		}
		for _, c := range []gateway.Component{{Name: "Late Member", GroupID: g.ID, Position: -1}, {Name: "Late Lone", Position: -1}} {
			if err := st.CreateComponent(e.ctx, &c); err != nil {
				t.Fatal(err)
			}
		}
		inOrder(t, "the page after API additions", e.mustGet("/"), ">Status Widget<", `<span class="group-name">Late Group</span>`, ">Late Lone<")
	})
}

// uptimeOf returns the uptime words under a component's bar.
func uptimeOf(t *testing.T, body, component string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)>` + regexp.QuoteMeta(component) + `<.*?<span>([0-9.]+%) uptime</span>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no uptime for %s", component)
	}
	return m[1]
}

func TestUptimeIsStatuspagesFromTheFirstSecond(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st) // the components were created at 13:54:00
		e.advance(30 * time.Second)
		if err := e.svc.SetComponentStatus(e.ctx, support, "Copy Module", gateway.MajorOutage); err != nil {
			t.Fatal(err)
		}
		// Within the minute the outage began: the days before it were up.
		body := e.mustGet("/")
		if got := uptimeOf(t, body, "Copy Module"); got != "100.00%" {
			t.Errorf("Copy Module in its outage's first minute: %s uptime, want 100.00%%", got)
		}
		if strings.Contains(body, "24 h") || strings.Contains(body, `data-tip="Sep 15, 2021: Major`) {
			t.Error("days before the outage (before the component existed) show an outage")
		}
		wantIn(t, "the bars", body, `data-tip="Sep 15, 2021: no data"`)

		// 90 s of major outage out of the one day the component has existed.
		e.advance(90 * time.Second)
		if err := e.svc.SetComponentStatus(e.ctx, support, "Copy Module", ""); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SetComponentStatus(e.ctx, support, "Mail Module", gateway.PartialOutage); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SetComponentStatus(e.ctx, support, "Move Module", gateway.DegradedPerformance); err != nil {
			t.Fatal(err)
		}
		e.advance(100 * time.Minute)
		body = e.mustGet("/")
		if got := uptimeOf(t, body, "Copy Module"); got != "99.90%" { // 1 - 90 s / 86400 s
			t.Errorf("Copy Module: %s uptime, want 99.90%%", got)
		}
		if got := uptimeOf(t, body, "Mail Module"); got != "97.92%" { // 1 - 0.3 × 100 min / 1440 min
			t.Errorf("Mail Module (partial outage weighs 0.3): %s uptime, want 97.92%%", got)
		}
		if got := uptimeOf(t, body, "Move Module"); got != "100.00%" {
			t.Errorf("Move Module (degraded performance is no downtime): %s uptime, want 100.00%%", got)
		}
		wantIn(t, "today's tips", body, `data-tip="Sep 16, 2021: Major Outage 2 min"`, `data-tip="Sep 16, 2021: Partial Outage 1 h 40 min"`,
			`data-tip="Sep 16, 2021: Degraded Performance 1 h 40 min"`)
	})
}

func TestHistoryPlacesMaintenanceAtItsStart(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st) // Sep 16, 2021 13:54
		at := func(d, h int) time.Time { return time.Date(2021, 9, d, h, 0, 0, 0, time.UTC) }
		if _, err := e.svc.Schedule(e.ctx, support, incidents.NewMaintenance{Name: "October upgrade", Body: "We will upgrade.",
			Components: []string{"Mail Module"}, ScheduledFor: at(30, 0).Add(10 * 24 * time.Hour), ScheduledUntil: at(30, 2).Add(10 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Schedule(e.ctx, support, incidents.NewMaintenance{Name: "Database upgrade", Body: "We will upgrade the database.",
			Components: []string{"Copy Module"}, ScheduledFor: at(20, 10), ScheduledUntil: at(20, 12)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Schedule(e.ctx, support, incidents.NewMaintenance{Name: "Network work", Body: "We will move racks.",
			Components: []string{"Space Module"}, ScheduledFor: at(18, 2), ScheduledUntil: at(18, 4), AutoTransition: true}); err != nil {
			t.Fatal(err)
		}
		for _, until := range []time.Time{at(18, 2).Add(5 * time.Minute), at(18, 4).Add(time.Minute)} {
			e.mu.Lock()
			e.now = until
			e.mu.Unlock()
			if _, err := e.svc.Tick(e.ctx); err != nil {
				t.Fatal(err)
			}
		}

		sep := e.mustGet("/history?month=2021-09")
		if strings.Contains(sep, "October upgrade") {
			t.Error("September's history lists a maintenance scheduled for October")
		}
		// Newest start first; the completed one spans its window, not its
		// creation on Sep 16.
		inOrder(t, "September", sep, "Database upgrade", `Scheduled for <time datetime="2021-09-20T10:00:00Z">`,
			"Network work", `<time datetime="2021-09-18T02:05:00Z">Sep 18, 2021 - 02:05 UTC</time> to <time datetime="2021-09-18T04:01:00Z">04:01 UTC</time>`)
		if strings.Contains(sep, "ongoing") || strings.Contains(sep, "2021-09-16T13:54") {
			t.Errorf("September's maintenances show as ongoing or from their creation:\n%s", sep)
		}
		oct := e.mustGet("/history?month=2021-10")
		wantIn(t, "October", oct, "October upgrade", `Scheduled for <time datetime="2021-10-10T00:00:00Z">`)
	})
}

func TestPostmortemReachesTheFeeds(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		inc := e.seedOutage()
		e.update(inc.ID, gateway.Resolved, "All systems have returned to a stable state.")
		newest := func() (atomItem, string) {
			t.Helper()
			var atom atomDoc
			if err := xml.Unmarshal([]byte(e.mustGet("/history.atom")), &atom); err != nil {
				t.Fatal(err)
			}
			var rss rssDoc
			if err := xml.Unmarshal([]byte(e.mustGet("/history.rss")), &rss); err != nil {
				t.Fatal(err)
			}
			if len(atom.Entries) == 0 || len(rss.Channel.Items) == 0 {
				t.Fatal("empty feeds")
			}
			it := rss.Channel.Items[0]
			if it.GUID != atom.Entries[0].ID[0] || it.Title != atom.Entries[0].Title[0] {
				t.Errorf("the RSS item %+v is not the Atom entry %+v", it, atom.Entries[0])
			}
			return atom.Entries[0], it.Description
		}
		before, _ := newest()

		e.advance(48 * time.Hour)
		if _, err := e.svc.Postmortem(e.ctx, support, inc.ID, "## Root cause\n\nA DNS change.", true); err != nil {
			t.Fatal(err)
		}
		pm, rssBody := newest()
		if pm.ID[0] == before.ID[0] || pm.Title[0] != "Customers cannot reach their sites - Postmortem" ||
			pm.Updated[0] != "2021-09-18T15:51:00Z" || pm.Content.Body != "## Root cause\n\nA DNS change." ||
			!strings.Contains(rssBody, "A DNS change.") {
			t.Errorf("newest entry after the postmortem = %+v (RSS %q), want the postmortem, updated at its publication", pm, rssBody)
		}

		// Published again with other words: the same entry, updated.
		e.advance(time.Hour)
		if _, err := e.svc.Postmortem(e.ctx, support, inc.ID, "## Root cause\n\nA DNS change, reverted.", true); err != nil {
			t.Fatal(err)
		}
		again, _ := newest()
		if again.ID[0] != pm.ID[0] || again.Updated[0] != "2021-09-18T16:51:00Z" || !strings.Contains(again.Content.Body, "reverted") {
			t.Errorf("republished postmortem entry = %+v, want id %s updated at 16:51 with the new words", again, pm.ID[0])
		}
		var atom atomDoc
		if err := xml.Unmarshal([]byte(e.mustGet("/history.atom")), &atom); err != nil {
			t.Fatal(err)
		}
		if len(atom.Entries) != 5 {
			t.Errorf("%d entries, want the 4 updates and one postmortem", len(atom.Entries))
		}
	})
}

// publicView is what a customer can learn of the page: the page's
// banner, the API's status, components and incidents, the feed's entries,
// and every notice written for subscribers (the events every email and
// webhook is planned from).
type publicView struct {
	page      string
	indicator string
	statuses  map[string]string
	incidents []string // summary's, incidents.json's and unresolved.json's, by name
	feed      int
	notices   []string
}

func (e *env) public(t *testing.T) publicView {
	t.Helper()
	v := publicView{page: e.mustGet("/"), statuses: map[string]string{}}
	var summary struct {
		Status struct {
			Indicator string `json:"indicator"`
		} `json:"status"`
		Components []struct{ Name, Status string } `json:"components"`
		Incidents  []struct{ Name string }         `json:"incidents"`
	}
	if err := json.Unmarshal([]byte(e.mustGet("/api/v2/summary.json")), &summary); err != nil {
		t.Fatal(err)
	}
	v.indicator = summary.Status.Indicator
	for _, c := range summary.Components {
		v.statuses[c.Name] = c.Status
	}
	for _, path := range []string{"/api/v2/incidents.json", "/api/v2/incidents/unresolved.json"} {
		var list struct {
			Incidents []struct{ Name string } `json:"incidents"`
		}
		if err := json.Unmarshal([]byte(e.mustGet(path)), &list); err != nil {
			t.Fatal(err)
		}
		summary.Incidents = append(summary.Incidents, list.Incidents...)
	}
	for _, i := range summary.Incidents {
		v.incidents = append(v.incidents, i.Name)
	}
	var atom atomDoc
	if err := xml.Unmarshal([]byte(e.mustGet("/history.atom")), &atom); err != nil {
		t.Fatal(err)
	}
	v.feed = len(atom.Entries)
	events, err := e.st.FanoutEvents(e.ctx, time.Time{}, time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(events) - 1; i >= 0; i-- { // oldest first
		v.notices = append(v.notices, string(events[i].Type))
	}
	return v
}

func TestDraftChangesNothingPublicUntilPublished(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		m, err := gateway.ParseMatcher("module=space")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.SyncConfig(e.ctx, store.Declaration{
			Sources: []store.DeclaredSource{{Name: "prometheus", Kind: "alertmanager", Token: "prom-token-0123456789"}},
			Rules: []store.DeclaredRule{{Matchers: []gateway.Matcher{m}, Components: []string{"Space Module"},
				SeverityStatus: map[gateway.Severity]gateway.ComponentStatus{gateway.SeverityCritical: gateway.MajorOutage}}},
		}); err != nil {
			t.Fatal(err)
		}
		src, err := st.Source(e.ctx, "prometheus")
		if err != nil {
			t.Fatal(err)
		}
		// publish: draft, as the config file says it.
		drafts := incidents.New(incidents.Options{Store: st, Owner: "drafts", Log: storetest.Logger(t),
			Settings: correlate.Settings{GroupWait: 30 * time.Second, GroupInterval: 5 * time.Minute, Window: 30 * time.Minute,
				ResolveAfter: 15 * time.Minute, MinAlerts: 1, Draft: true},
			Page: gateway.PageInfo{Name: "Eptura Workplace", URL: "https://status.example.com"}, PublicURL: "https://status.example.com"})
		in := ingest.New(st, ingest.Options{Log: storetest.Logger(t), RulesTTL: time.Nanosecond})
		body := `{"version":"4","status":"firing","receiver":"herald","groupKey":"{}:{}","groupLabels":{},
			"commonLabels":{},"commonAnnotations":{},"externalURL":"http://alertmanager.example.com","truncatedAlerts":0,
			"alerts":[{"status":"firing","labels":{"alertname":"ServiceDown","module":"space","severity":"critical"},
			"annotations":{"summary":"Space Module is down"},"startsAt":"2021-09-16T13:54:00Z","endsAt":"0001-01-01T00:00:00Z",
			"generatorURL":"http://prometheus.example.com/graph","fingerprint":"fp-space"}]}`
		if _, err := in.Ingest(e.ctx, src, []byte(body), "application/json", e.clock()); err != nil {
			t.Fatal(err)
		}
		if err := drafts.Reconcile(e.ctx); err != nil {
			t.Fatal(err)
		}
		e.advance(time.Minute) // past group_wait: the first message would be due
		if _, err := drafts.Tick(e.ctx); err != nil {
			t.Fatal(err)
		}
		// Support drafts an incident of its own too.
		manual, err := e.svc.Create(e.ctx, support, incidents.NewIncident{Name: "Copying fails", Status: gateway.Investigating,
			Body: "We are looking into failed copies.", Components: map[string]gateway.ComponentStatus{"Copy Module": gateway.MajorOutage},
			Notify: true, Draft: true})
		if err != nil {
			t.Fatal(err)
		}
		list, err := st.Incidents(e.ctx, store.IncidentFilter{})
		if err != nil || len(list) != 2 {
			t.Fatalf("incidents = %+v, %v; want the automatic draft and support's", list, err)
		}
		auto := list[0].ID
		if auto == manual.ID {
			auto = list[1].ID
		}

		quiet := func(when string) {
			t.Helper()
			v := e.public(t)
			if !strings.Contains(v.page, "All Systems Operational") || strings.Contains(v.page, "s-major-outage") ||
				strings.Contains(v.page, "Copying fails") || v.indicator != "none" {
				t.Errorf("%s: the status page shows the drafts (indicator %s)", when, v.indicator)
			}
			for name, st := range v.statuses {
				if st != "operational" {
					t.Errorf("%s: the API shows %s %s", when, name, st)
				}
			}
			if len(v.incidents) != 0 || v.feed != 0 || len(v.notices) != 0 {
				t.Errorf("%s: API incidents %q, %d feed entries, notices %q; want none", when, v.incidents, v.feed, v.notices)
			}
		}
		quiet("two drafts")

		// What the console shows before publishing is what publishing does.
		preview, err := e.svc.PreviewPublish(e.ctx, support, auto)
		if err != nil {
			t.Fatal(err)
		}
		if len(preview.Changes) != 1 || preview.Changes[0].Name != "Space Module" || preview.Changes[0].NewStatus != gateway.MajorOutage ||
			preview.Event == nil || preview.Event.Type != gateway.EventIncidentCreated {
			t.Errorf("publish preview = %+v", preview)
		}
		quiet("after the preview")

		if _, err := e.svc.Publish(e.ctx, support, auto); err != nil {
			t.Fatal(err)
		}
		v := e.public(t)
		if v.indicator != "critical" || v.statuses["Space Module"] != "major_outage" || v.statuses["Copy Module"] != "operational" ||
			len(v.incidents) != 3 || v.feed != 1 || !strings.Contains(v.page, "Major System Outage") || strings.Contains(v.page, "Copying fails") {
			t.Errorf("after publishing the automatic draft: %+v", v)
		}
		if got := strings.Join(v.notices, " "); got != "incident.created" {
			t.Errorf("notices after publishing = %s, want one incident.created (the component change rides in it)", got)
		}

		if _, err := e.svc.Publish(e.ctx, support, manual.ID); err != nil {
			t.Fatal(err)
		}
		v = e.public(t)
		if v.statuses["Copy Module"] != "major_outage" || !strings.Contains(v.page, "Copying fails") || len(v.incidents) != 6 || v.feed != 2 {
			t.Errorf("after publishing support's draft: %+v", v)
		}
		if got := strings.Join(v.notices, " "); got != "incident.created incident.created" {
			t.Errorf("notices = %s, want two incident.created", got)
		}
		pub, err := st.Incident(e.ctx, manual.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ac := pub.Updates[0].AffectedComponents; len(ac) != 1 || ac[0].OldStatus != gateway.Operational || ac[0].NewStatus != gateway.MajorOutage {
			t.Errorf("the published draft's update reports %+v, want Copy Module operational → major outage", ac)
		}
	})
}
