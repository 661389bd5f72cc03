package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// The demo replays the whole seed, fast, on each store: DNS fails first,
// the modules' and the app's alerts arrive through ingest and open one
// incident, the DNS probe's alert joins it on DNS a little later, support's
// words take it to the postmortem, and the outbox holds one message per
// subscriber per update.
func TestDemoReplaysTheSeedOutage(t *testing.T) {
	for _, dialect := range storetest.Databases() {
		t.Run(dialect, func(t *testing.T) { testDemo(t, storetest.URL(t, dialect)) })
	}
}

const demoAdminKey = "hrld_demo_admin_token_0123456789"

func testDemo(t *testing.T, db string) {
	dir := t.TempDir()
	outbox := filepath.Join(dir, "outbox")
	// A step of 100 ms: group_wait (ten steps) is then a second, and the
	// third module's alert, due four steps after the first, has 600 ms to
	// spare. On a loaded machine the replay's posts stall for a few hundred
	// milliseconds; at 25 ms a step the storm then outlasted group_wait, the
	// first module's incident was announced alone (announced incidents are
	// never folded) and the outage made two incidents, as it would for a
	// real storm slower than group_wait.
	in := start(t, map[string]string{"HERALD_OUTBOX_DIR": outbox, "HERALD_LOG_LEVEL": "error", "HERALD_ADMIN_TOKEN": demoAdminKey},
		"demo", "--step", "100ms", "--exit", "--database", db)
	// While the replay runs, the seed's incident as the API shows it, each
	// time it changes: what it said first and last about the cause.
	snaps := watchIncident(t, in)
	if !strings.Contains(in.logs.String(), "118s Postmortem") {
		t.Errorf("the replay did not reach the postmortem:\n%s", in.logs)
	}

	ctx := context.Background()
	st, err := store.Open(ctx, db, storetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	all, err := st.Incidents(ctx, store.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var seed *gateway.Incident
	for i := range all {
		if strings.HasPrefix(all[i].Name, "iOFFICE") {
			seed = &all[i]
		}
	}
	if len(all) != 3 || seed == nil {
		t.Fatalf("incidents = %d (%+v), want the seed's and two past ones", len(all), all)
	}
	inc, err := st.Incident(ctx, seed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != gateway.Postmortem || !inc.Automated || len(inc.Updates) < 10 {
		t.Errorf("the seed's incident: %s, automated %v, %d updates; want postmortem, opened by alerts, ≥ 10",
			inc.Status, inc.Automated, len(inc.Updates))
	}

	// One incident covers the eleven components that depend on DNS, and DNS.
	comps, err := st.Components(ctx)
	if err != nil {
		t.Fatal(err)
	}
	name := map[string]string{}
	for _, c := range comps {
		name[c.ID] = c.Name
	}
	var covered []string
	for id := range inc.Components {
		covered = append(covered, name[id])
	}
	slices.Sort(covered)
	want := []string{"DNS", "Hummingbird App"}
	for _, m := range demoModules {
		want = append(want, m.name)
	}
	slices.Sort(want)
	if !slices.Equal(covered, want) {
		t.Errorf("the incident covers %v, want the 11 dependents and DNS: %v", covered, want)
	}

	// The DNS probe's alert fired, joined that incident and resolved.
	probe, err := st.Alerts(ctx, store.AlertFilter{Fingerprint: "probe:dns"})
	if err != nil {
		t.Fatal(err)
	}
	if len(probe) != 1 || probe[0].IncidentID != inc.ID || probe[0].Status != gateway.AlertResolved {
		t.Errorf("the DNS probe's alerts: %+v; want one, of incident %s, resolved", probe, inc.ID)
	}

	checkOnePerSubscriberPerUpdate(t, st, outbox, inc.ID, len(inc.Updates))

	// The cause, as correlation names it: probable from the dependents
	// first, then confirmed by the probe, and named in automation's title
	// (until support's first update gives the incident support's words).
	checkRootCauseInferredThenConfirmed(t, snaps)
	const title = "DNS: 11 components affected"
	if !slices.ContainsFunc(snaps, func(s map[string]any) bool { return s["name"] == title }) {
		t.Errorf("no snapshot of the incident is titled %q", title)
	}
}

// watchIncident polls the API while the demo runs, until the replay ends
// (--exit), and returns the seed's incident (the first automated one) as
// JSON each time it changed.
func watchIncident(t *testing.T, in *instance) []map[string]any {
	t.Helper()
	var snaps []map[string]any
	var id, last string
	deadline := time.Now().Add(2 * time.Minute) // a hang guard
	for {
		select {
		case err := <-in.done:
			in.done <- err // for the cleanup's stop
			if err != nil {
				t.Fatalf("herald demo: %v\n%s", err, in.logs)
			}
			return snaps
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo did not end\n%s", in.logs)
		}
		if id == "" {
			code, body := in.get("/api/v1/incidents?status=open", demoAdminKey)
			var list struct {
				Data []gateway.Incident `json:"data"`
			}
			if code != 200 || json.Unmarshal([]byte(body), &list) != nil {
				continue
			}
			for _, i := range list.Data {
				if i.Automated {
					id = i.ID
				}
			}
			if id == "" {
				continue
			}
		}
		code, body := in.get("/api/v1/incidents/"+id, demoAdminKey)
		if code != 200 || body == last {
			continue
		}
		var snap map[string]any
		if err := json.Unmarshal([]byte(body), &snap); err != nil {
			t.Fatalf("GET /api/v1/incidents/%s: %v: %s", id, err, body)
		}
		snaps, last = append(snaps, snap), body
	}
}

// checkRootCauseInferredThenConfirmed holds the incident's root_cause to
// the seed's story: DNS named as the probable cause while only its
// dependents' alerts fired (inferred), then confirmed once the DNS
// probe's alert joined (not inferred), and never inferred again after.
func checkRootCauseInferredThenConfirmed(t *testing.T, snaps []map[string]any) {
	t.Helper()
	type cause struct {
		name     string
		inferred bool
	}
	var seen []cause
	for _, s := range snaps {
		rc, ok := s["root_cause"].(map[string]any)
		if !ok {
			continue // none named yet
		}
		comp, _ := rc["component"].(map[string]any)
		name, _ := comp["name"].(string)
		inferred, _ := rc["inferred"].(bool)
		if len(seen) == 0 || seen[len(seen)-1] != (cause{name, inferred}) {
			seen = append(seen, cause{name, inferred})
		}
	}
	if len(seen) == 0 {
		t.Fatalf("no snapshot of the incident names a root cause")
	}
	for _, c := range seen {
		if c.name != "DNS" {
			t.Errorf("root_cause named %q, want DNS throughout; causes seen: %+v", c.name, seen)
		}
	}
	if !seen[0].inferred {
		t.Errorf("the first root_cause is confirmed; want it inferred from the dependents first: %+v", seen)
	}
	if seen[len(seen)-1].inferred {
		t.Errorf("the last root_cause is still inferred; want it confirmed by the DNS probe: %+v", seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].inferred && !seen[i-1].inferred {
			t.Errorf("the cause went back to inferred after it was confirmed: %+v", seen)
		}
	}
}

// checkOnePerSubscriberPerUpdate reads the outbox: every event of the
// incident that notifies reached the subscriber of the whole page in
// exactly one message, and the subscribers of the modules' group and of
// the app each in one message from the first that concerned them on (the
// incident may open before the app's alert is in it, and then it is not
// the app's subscribers' business yet); no message is about anything
// else. Those events are the incident's updates (and its postmortem), not
// its alerts: twelve alerts make no more mail than the updates they
// caused.
func checkOnePerSubscriberPerUpdate(t *testing.T, st *store.Store, outbox, incidentID string, updates int) {
	t.Helper()
	rows, err := st.DB().Query(storetest.Rebind(st, "SELECT id, type FROM events WHERE incident_id = ? AND notify = ? ORDER BY created_at, id"), incidentID, true)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	events := map[string]string{}
	var order []string // oldest first
	for rows.Next() {
		var id, typ string
		if err := rows.Scan(&id, &typ); err != nil {
			t.Fatal(err)
		}
		events[id] = typ
		order = append(order, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(outbox, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]int{} // address → event id → messages
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		to, err := mail.ParseAddress(m.Header.Get("To"))
		if err != nil {
			t.Fatalf("%s: To: %v", f, err)
		}
		// Message-ID: <delivery-N.EVENT@domain>
		_, ev, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(m.Header.Get("Message-Id"), "<"), ">"), ".")
		ev, _, _ = strings.Cut(ev, "@")
		if got[to.Address] == nil {
			got[to.Address] = map[string]int{}
		}
		got[to.Address][ev]++
	}
	perAddr := map[string]int{}
	for addr, evs := range got {
		for _, n := range evs {
			perAddr[addr] += n
		}
	}
	t.Logf("%d notifying events of the incident; %d messages: %v", len(events), len(files), perAddr)
	if len(events) == 0 || len(events) > updates+1 {
		t.Fatalf("the incident made %d notifying events, want one per update (%d) and the postmortem at most", len(events), updates)
	}
	for _, addr := range []string{"facilities@example.com", "office.manager@example.com", "mobile.team@example.com"} {
		from := slices.IndexFunc(order, func(ev string) bool { return got[addr][ev] > 0 })
		if addr == "facilities@example.com" {
			from = 0 // the whole page's subscriber gets every one
		}
		if from < 0 {
			t.Errorf("%s got no message about the incident", addr)
			continue
		}
		for _, ev := range order[from:] {
			if n := got[addr][ev]; n != 1 {
				t.Errorf("%s got %d messages about event %s (%s), want 1", addr, n, ev, events[ev])
			}
		}
		for ev, n := range got[addr] {
			if _, ok := events[ev]; !ok {
				t.Errorf("%s got %d messages about event %s, which is not a notifying event of the incident", addr, n, ev)
			}
		}
	}
	if len(got) != 3 {
		t.Errorf("messages went to %d addresses, want the 3 demo subscribers", len(got))
	}
}

// postAPI POSTs a JSON body to path with the admin key and returns the
// status and body.
func (in *instance) postAPI(path, key, body string) (int, string) {
	in.t.Helper()
	return in.call(http.MethodPost, path, key, body)
}

// The demo's page takes a webhook subscriber on this machine when
// HERALD_ALLOW_PRIVATE_TARGETS says so, as herald serve does, and refuses
// one otherwise.
func TestDemoHonoursAllowPrivateTargets(t *testing.T) {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(receiver.Close)
	const key = "hrld_demo_admin_token_0123456789"
	for _, tc := range []struct {
		allow string
		want  int
	}{{"true", http.StatusCreated}, {"", http.StatusUnprocessableEntity}} {
		t.Run("allow="+tc.allow, func(t *testing.T) {
			vars := map[string]string{"HERALD_ADMIN_TOKEN": key, "HERALD_LOG_LEVEL": "error",
				"HERALD_OUTBOX_DIR": filepath.Join(t.TempDir(), "outbox")}
			if tc.allow != "" {
				vars["HERALD_ALLOW_PRIVATE_TARGETS"] = tc.allow
			}
			// A step of an hour: the replay does not begin while the test runs.
			in := start(t, vars, "demo", "--step", "1h", "--database", "sqlite:"+filepath.Join(t.TempDir(), "demo.db"))
			code, body := in.postAPI("/api/v1/subscribers", key, `{"url":"`+receiver.URL+`/hook","confirmed":true}`)
			if code != tc.want {
				t.Fatalf("POST /api/v1/subscribers with %s = %d %s, want %d\n%s", receiver.URL, code, body, tc.want, in.logs)
			}
			if code == http.StatusUnprocessableEntity && !strings.Contains(body, "url") {
				t.Errorf("the refusal does not name the url: %s", body)
			}
		})
	}
}
