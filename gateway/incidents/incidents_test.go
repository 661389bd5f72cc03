package incidents_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/correlate"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/ingest"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// The seed outage: ten modules of one product and one app.
var modules = []string{"Space Module", "Move Module", "Reservation Module", "Service Request Module", "Asset Module",
	"Inventory Module", "Mail Module", "Copy Module", "Visitor Module", "Insights Module"}

var t0 = time.Date(2021, 9, 16, 13, 15, 0, 0, time.UTC)

// world is a store with the seed page, an ingest service, an incidents
// service and a clock the test moves.
type world struct {
	t   *testing.T
	ctx context.Context
	st  *store.Store
	in  *ingest.Service
	svc *incidents.Service
	src *gateway.Source
	mu  sync.Mutex
	now time.Time
	set correlate.Settings
}

// resolveTimeout is the scenarios' correlation.resolve_timeout, the
// default.
const resolveTimeout = 5 * time.Minute

func settings() correlate.Settings {
	return correlate.Settings{GroupWait: 30 * time.Second, GroupInterval: 5 * time.Minute, Window: 30 * time.Minute,
		ResolveAfter: 15 * time.Minute, MinAlerts: 1, FlapChanges: 4, FlapWindow: 30 * time.Minute}
}

func newWorld(t *testing.T, st *store.Store, set correlate.Settings) *world {
	t.Helper()
	return newWorldWith(t, st, set, nil)
}

// newWorldWith is newWorld with the seed page changed by edit first.
func newWorldWith(t *testing.T, st *store.Store, set correlate.Settings, edit func(*store.Declaration)) *world {
	t.Helper()
	w := &world{t: t, ctx: context.Background(), st: st, now: t0, set: set}
	st.Now = w.clock
	d := store.Declaration{
		Groups: []store.DeclaredGroup{{Name: "Eptura Workplace Modules", Position: 0}, {Name: "Apps", Position: 1}},
		Sources: []store.DeclaredSource{{Name: "prometheus", Kind: "alertmanager", Token: "prom-token-0123456789"},
			{Name: "prometheus-api", Kind: "alertmanager-api", Token: "prom-api-token-0123456789"}},
	}
	for i, m := range modules {
		d.Components = append(d.Components, store.DeclaredComponent{Name: m, Group: "Eptura Workplace Modules", Position: i})
		d.Rules = append(d.Rules, rule(t, "module="+slug(m), m))
	}
	d.Components = append(d.Components, store.DeclaredComponent{Name: "Hummingbird App", Group: "Apps"})
	d.Rules = append(d.Rules, rule(t, "app=hummingbird", "Hummingbird App"))
	if edit != nil {
		edit(&d)
	}
	if _, err := st.SyncConfig(w.ctx, d); err != nil {
		t.Fatal(err)
	}
	var err error
	if w.src, err = st.Source(w.ctx, "prometheus"); err != nil {
		t.Fatal(err)
	}
	w.in = ingest.New(st, ingest.Options{Log: storetest.Logger(t), FlapWindow: set.FlapWindow, RulesTTL: time.Nanosecond,
		ResolveTimeout: resolveTimeout})
	w.svc = w.service("p1")
	if err := w.svc.Start(w.ctx); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) service(owner string) *incidents.Service {
	return incidents.New(w.options(owner))
}

// options are a replica's: owner names it in timer leases.
func (w *world) options(owner string) incidents.Options {
	return incidents.Options{Store: w.st, Settings: w.set, Owner: owner, Log: storetest.Logger(w.t),
		Page: gateway.PageInfo{Name: "Eptura Workplace", URL: "https://status.example.com"}, PublicURL: "https://status.example.com",
		ReconcileEvery: time.Second}
}

func rule(t *testing.T, matcher, component string) store.DeclaredRule {
	m, err := gateway.ParseMatcher(matcher)
	if err != nil {
		t.Fatal(err)
	}
	return store.DeclaredRule{Matchers: []gateway.Matcher{m}, Components: []string{component},
		SeverityStatus: map[gateway.Severity]gateway.ComponentStatus{gateway.SeverityCritical: gateway.MajorOutage, gateway.SeverityWarning: gateway.DegradedPerformance}}
}

func slug(name string) string {
	out := []byte{}
	for _, r := range name {
		if r == ' ' {
			break
		}
		out = append(out, byte(r|0x20))
	}
	return string(out)
}

func (w *world) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

// advance moves the clock and fires everything due, as the running loop would.
func (w *world) advance(d time.Duration) {
	w.t.Helper()
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
	w.tick()
	storetest.CheckLifecycle(w.t, w.st) // after every step of every scenario
}

func (w *world) tick() {
	w.t.Helper()
	for i := 0; i < 5; i++ { // a timer may schedule another that is due at once
		n, err := w.svc.Tick(w.ctx)
		if err != nil {
			w.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// fire posts one alert for a component as Alertmanager does: a version 4
// webhook body, decoded by the alertmanager source and stored by ingest.
func (w *world) fire(component, severity string, status gateway.AlertStatus) {
	w.t.Helper()
	w.fireAs("fp-"+slug(component)+"-"+component[len(component)-3:], component, severity, status)
}

// fireAs is fire for an alert of its own fingerprint fp (another check of
// the same component).
func (w *world) fireAs(fp, component, severity string, status gateway.AlertStatus) {
	w.t.Helper()
	labels := map[string]string{"alertname": "ServiceDown", "severity": severity, "check": fp}
	if component == "Hummingbird App" {
		labels["app"] = "hummingbird"
	} else {
		labels["module"] = slug(component)
	}
	now := w.clock()
	alert := map[string]any{"status": string(status), "labels": labels,
		"annotations": map[string]string{"summary": component + " is down"},
		"startsAt":    now.Format(time.RFC3339Nano), "endsAt": "0001-01-01T00:00:00Z",
		"generatorURL": "http://prometheus.example.com/graph", "fingerprint": fp}
	if status == gateway.AlertResolved {
		alert["startsAt"] = now.Add(-time.Second).Format(time.RFC3339Nano)
		alert["endsAt"] = now.Format(time.RFC3339Nano)
	}
	body, err := json.Marshal(map[string]any{"version": "4", "status": string(status), "receiver": "herald",
		"groupKey": "{}:{alertname=\"ServiceDown\"}", "groupLabels": map[string]string{"alertname": "ServiceDown"},
		"commonLabels": labels, "commonAnnotations": map[string]string{}, "externalURL": "http://alertmanager.example.com",
		"truncatedAlerts": 0, "alerts": []any{alert}})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.in.Ingest(w.ctx, w.src, body, "application/json", now); err != nil {
		w.t.Fatalf("ingest %s: %v", body, err)
	}
}

func (w *world) incidents() []gateway.Incident {
	w.t.Helper()
	list, err := w.st.Incidents(w.ctx, store.IncidentFilter{})
	if err != nil {
		w.t.Fatal(err)
	}
	return list
}

func (w *world) only() *gateway.Incident {
	w.t.Helper()
	list := w.incidents()
	if len(list) != 1 {
		w.t.Fatalf("%d incidents, want exactly one: %+v", len(list), list)
	}
	inc, err := w.st.Incident(w.ctx, list[0].ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return inc
}

// events lists the types of an incident's events, oldest first.
func (w *world) events(incidentID string) []string {
	w.t.Helper()
	q := "SELECT type FROM events WHERE incident_id = ? ORDER BY created_at, id"
	if w.st.Dialect() == store.Postgres {
		q = "SELECT type FROM events WHERE incident_id = $1 ORDER BY created_at, id"
	}
	rows, err := w.st.DB().QueryContext(w.ctx, q, incidentID)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		w.t.Fatal(err)
	}
	return out
}

func (w *world) status(component string) gateway.ComponentStatus {
	w.t.Helper()
	c, err := w.st.Component(w.ctx, component)
	if err != nil {
		w.t.Fatal(err)
	}
	return c.Status
}

func wantEvents(t *testing.T, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

// eventBody returns the payload of an incident's first event of type typ.
func (w *world) eventBody(incidentID, typ string) string {
	w.t.Helper()
	q := "SELECT payload FROM events WHERE incident_id = ? AND type = ? ORDER BY created_at LIMIT 1"
	if w.st.Dialect() == store.Postgres {
		q = "SELECT payload FROM events WHERE incident_id = $1 AND type = $2 ORDER BY created_at LIMIT 1"
	}
	var p string
	if err := w.st.DB().QueryRowContext(w.ctx, q, incidentID, typ).Scan(&p); err != nil {
		w.t.Fatal(err)
	}
	return p
}
