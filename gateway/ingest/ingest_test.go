package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/ingest"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func newService(t testing.TB, st *store.Store) *ingest.Service {
	return ingest.New(st, ingest.Options{Log: storetest.Logger(t)})
}

func newSource(t testing.TB, st *store.Store, name, kind string, rate float64) *gateway.Source {
	t.Helper()
	src := &gateway.Source{Name: name, Kind: kind, RateLimit: rate}
	if _, err := st.CreateSource(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	return src
}

func testdata(t testing.TB, format, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "sources", format, "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func alertsOf(t testing.TB, st *store.Store, f store.AlertFilter) map[string]*store.AlertRecord {
	t.Helper()
	f.Limit = 1000
	list, err := st.Alerts(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*store.AlertRecord{}
	for _, a := range list {
		if out[a.Fingerprint] != nil {
			t.Errorf("two rows for fingerprint %s", a.Fingerprint)
		}
		out[a.Fingerprint] = a
	}
	return out
}

// A firing then resolved Alertmanager alert ends as one resolved row; a
// late repeat of the firing notification is stale.
func TestAlertmanagerFiringThenResolved(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx, svc := context.Background(), newService(t, st)
		src := newSource(t, st, "prometheus", "alertmanager", 0)
		steps := []struct {
			file string
			want ingest.Result
		}{
			{"alertmanager-firing.json", ingest.Result{Received: 2, Accepted: 2, Unrouted: 2}},
			{"alertmanager-firing.json", ingest.Result{Received: 2, Deduplicated: 2, Unrouted: 2}},
			{"alertmanager-resolved.json", ingest.Result{Received: 1, Accepted: 1, Unrouted: 1}},
			{"alertmanager-firing.json", ingest.Result{Received: 2, Deduplicated: 1, Stale: 1, Unrouted: 1}},
		}
		for i, s := range steps {
			res, err := svc.Ingest(ctx, src, testdata(t, "alertmanager", s.file), "application/json", time.Now())
			if err != nil {
				t.Fatalf("step %d (%s): %v", i, s.file, err)
			}
			if res != s.want {
				t.Errorf("step %d (%s) = %+v, want %+v", i, s.file, res, s.want)
			}
		}
		got := alertsOf(t, st, store.AlertFilter{})
		if len(got) != 2 {
			t.Fatalf("%d alert rows, want 2", len(got))
		}
		r := got["7c16bdd79ebcde67"]
		wantEnd := time.Date(2026, 11, 24, 1, 37, 14, 0, time.UTC)
		if r.Status != gateway.AlertResolved || !r.EndsAt.Equal(wantEnd) || r.StateChanges != 1 || r.Severity != gateway.SeverityCritical {
			t.Errorf("resolved alert = %s ends %v changes %d severity %s; want resolved at %v, 1 change, critical",
				r.Status, r.EndsAt, r.StateChanges, r.Severity, wantEnd)
		}
		if f := got["1b62ecc05f9cda94"]; f.Status != gateway.AlertFiring || !f.EndsAt.IsZero() || len(f.Raw) != 0 {
			t.Errorf("firing alert = %+v (lists leave raw out)", f)
		}
		if a, err := st.Alert(ctx, r.ID); err != nil {
			t.Fatal(err)
		} else if !strings.Contains(string(a.Raw), `"status":"resolved"`) {
			t.Errorf("raw = %s, want the resolve as received", a.Raw)
		}
		if s, err := st.Source(ctx, src.ID); err != nil {
			t.Fatal(err)
		} else if s.LastAlertAt.IsZero() {
			t.Error("the source's last_alert_at is not set")
		}
	})
}

// Rules route by the first match; an alert no rule matches is stored with
// no rule and no components.
func TestRouting(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx, svc := context.Background(), newService(t, st)
		src := newSource(t, st, "scripts", "generic", 0)
		space := &gateway.Component{Name: "Space", Position: -1}
		db := &gateway.Component{Name: "DB", Position: -1}
		for _, c := range []*gateway.Component{space, db} {
			if err := st.CreateComponent(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		m := func(s string) gateway.Matcher { x, _ := gateway.ParseMatcher(s); return x }
		for _, r := range []*gateway.Rule{
			{Position: -1, Matchers: []gateway.Matcher{m("service=~sp.*")}, ComponentIDs: []string{space.ID}},
			{Position: -1, Matchers: []gateway.Matcher{m("service=space")}, ComponentIDs: []string{db.ID}},
			{Position: -1, Matchers: []gateway.Matcher{m("service=db")}, ComponentIDs: []string{db.ID},
				SeverityStatus: map[gateway.Severity]gateway.ComponentStatus{gateway.SeverityWarning: gateway.PartialOutage}},
		} {
			if err := st.CreateRule(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		body := `{"alerts":[
			{"fingerprint":"a","status":"firing","severity":"critical","labels":{"service":"space"}},
			{"fingerprint":"b","status":"firing","severity":"warning","labels":{"service":"db"}},
			{"fingerprint":"c","status":"firing","labels":{"service":"mail"}}]}`
		res, err := svc.Ingest(ctx, src, []byte(body), "application/json", time.Now())
		if err != nil || res.Accepted != 3 || res.Unrouted != 1 {
			t.Fatalf("Ingest = %+v, %v; want 3 accepted, 1 unrouted", res, err)
		}
		got := alertsOf(t, st, store.AlertFilter{})
		want := map[string]store.AlertComponent{
			"a": {ComponentID: space.ID, Status: gateway.MajorOutage},
			"b": {ComponentID: db.ID, Status: gateway.PartialOutage},
		}
		for fp, wc := range want {
			if c := got[fp].Components; len(c) != 1 || c[0] != wc || got[fp].RuleID == "" {
				t.Errorf("alert %s: rule %q components %+v, want %+v", fp, got[fp].RuleID, c, wc)
			}
		}
		if c := got["c"]; c.RuleID != "" || len(c.Components) != 0 {
			t.Errorf("unmatched alert: rule %q components %+v, want none", c.RuleID, c.Components)
		}
		if byComp := alertsOf(t, st, store.AlertFilter{ComponentID: db.ID}); len(byComp) != 1 || byComp["b"] == nil {
			t.Errorf("alerts of the DB component = %v, want b", byComp)
		}

		// A component deleted behind the cached rules' back fails the
		// write, which is retried with fresh rules: the first rule still
		// matches, and now sets no component.
		if err := st.DeleteComponent(ctx, space.ID); err != nil {
			t.Fatal(err)
		}
		res, err = svc.Ingest(ctx, src, []byte(`{"fingerprint":"d","status":"firing","labels":{"service":"space"}}`), "", time.Now())
		if err != nil || res.Accepted != 1 {
			t.Fatalf("after a component was deleted: %+v, %v", res, err)
		}
		if d := alertsOf(t, st, store.AlertFilter{Fingerprint: "d"})["d"]; d.RuleID != got["a"].RuleID || len(d.Components) != 0 {
			t.Errorf("alert d: rule %q components %+v, want rule %q and none", d.RuleID, d.Components, got["a"].RuleID)
		}
	})
}

// A request of more alerts than the store merges at once (1024
// fingerprints) counts and routes them as a small one does, an alert sent
// twice in it included.
func TestLargeRequest(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx, svc := context.Background(), newService(t, st)
		src := newSource(t, st, "scripts", "generic", 0)
		comp := &gateway.Component{Name: "A", Position: -1}
		if err := st.CreateComponent(ctx, comp); err != nil {
			t.Fatal(err)
		}
		m, _ := gateway.ParseMatcher("service=a")
		if err := st.CreateRule(ctx, &gateway.Rule{Position: -1, Matchers: []gateway.Matcher{m}, ComponentIDs: []string{comp.ID}}); err != nil {
			t.Fatal(err)
		}
		// 1,200 alerts fire, services a and b in turn; the first 300 are
		// then resolved in the same request.
		var alerts []string
		for i := range 1500 {
			status, end := "firing", ""
			if i >= 1200 {
				status, end = "resolved", `,"ends_at":"2026-11-24T01:01:00Z"`
			}
			alerts = append(alerts, fmt.Sprintf(`{"fingerprint":"f%04d","status":%q,"starts_at":"2026-11-24T01:00:00Z"%s,"labels":{"service":%q}}`,
				i%1200, status, end, []string{"a", "b"}[i%1200%2]))
		}
		body := []byte(`{"alerts":[` + strings.Join(alerts, ",") + `]}`)
		res, err := svc.Ingest(ctx, src, body, "application/json", time.Now())
		if want := (ingest.Result{Received: 1500, Accepted: 1500, Unrouted: 750}); err != nil || res != want {
			t.Fatalf("Ingest = %+v, %v; want %+v", res, err, want)
		}
		// Again: the first 300 fire before their stored end (stale), the
		// rest repeats what is stored.
		res, err = svc.Ingest(ctx, src, body, "application/json", time.Now())
		if want := (ingest.Result{Received: 1500, Deduplicated: 1200, Stale: 300, Unrouted: 600}); err != nil || res != want {
			t.Fatalf("Ingest again = %+v, %v; want %+v", res, err, want)
		}
		for _, fp := range []string{"f0000", "f0298", "f0300", "f1198"} {
			a := alertsOf(t, st, store.AlertFilter{Fingerprint: fp})[fp]
			wantStatus := gateway.AlertFiring
			if fp < "f0300" {
				wantStatus = gateway.AlertResolved
			}
			if a.Status != wantStatus || len(a.Components) != 1 {
				t.Errorf("alert %s: %s with components %+v, want %s routed to %s", fp, a.Status, a.Components, wantStatus, comp.ID)
			}
		}
		if a := alertsOf(t, st, store.AlertFilter{Fingerprint: "f1199"})["f1199"]; a.RuleID != "" || len(a.Components) != 0 {
			t.Errorf("alert f1199 of service b: rule %q, want none", a.RuleID)
		}
	})
}

// Parallel requests for the same new fingerprints never make two rows:
// on PostgreSQL the requests that lose the insert race are retried.
func TestConcurrentRequestsForTheSameAlerts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx, svc := context.Background(), newService(t, st)
		src := newSource(t, st, "scripts", "generic", 0)
		const rounds, senders, alerts = 5, 8, 20
		for round := range rounds {
			var b strings.Builder
			b.WriteString(`{"alerts":[`)
			for i := range alerts {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `{"fingerprint":"r%d-%02d","status":"firing","labels":{"n":"%d"}}`, round, i, i)
			}
			b.WriteString(`]}`)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for range senders {
				wg.Go(func() {
					<-start // all at once, so that they race for the inserts
					if _, err := svc.Ingest(ctx, src, []byte(b.String()), "", time.Now()); err != nil {
						t.Errorf("concurrent ingest: %v", err)
					}
				})
			}
			close(start)
			wg.Wait()
		}
		got := alertsOf(t, st, store.AlertFilter{})
		if len(got) != rounds*alerts {
			t.Errorf("%d rows, want %d", len(got), rounds*alerts)
		}
		for fp, a := range got {
			if a.Status != gateway.AlertFiring || a.StateChanges != 0 {
				t.Errorf("%s: %s with %d state changes, want firing with none", fp, a.Status, a.StateChanges)
			}
		}
	})
}

func TestErrors(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx, svc := context.Background(), newService(t, st)
		src := newSource(t, st, "prometheus", "alertmanager", 0)
		limited := newSource(t, st, "limited", "generic", 0.01)
		tests := []struct {
			name, body, ct, code, field string
		}{
			{"text/plain", `{}`, "text/plain", gateway.EUNSUPPORTED, ""},
			{"malformed", `{"alerts":[`, "application/json", gateway.EINVALID, ""},
			{"invalid field", `{"version":"4","alerts":[{"status":"burning","labels":{"a":"b"}}]}`, "application/json; charset=utf-8",
				gateway.EUNPROCESSABLE, "alerts[0].status"},
		}
		for _, tt := range tests {
			_, err := svc.Ingest(ctx, src, []byte(tt.body), tt.ct, time.Now())
			var ge *gateway.Error
			if gateway.ErrorCode(err) != tt.code {
				t.Errorf("%s: err = %v, want %s", tt.name, err, tt.code)
			} else if tt.field != "" && (!errors.As(err, &ge) || ge.Fields[tt.field] == "") {
				t.Errorf("%s: err %v does not name %s", tt.name, err, tt.field)
			}
		}
		if got := alertsOf(t, st, store.AlertFilter{}); len(got) != 0 {
			t.Errorf("failed requests stored %d alerts", len(got))
		}

		now := time.Now()
		if err := svc.Allow(limited, now); err != nil {
			t.Fatalf("first request over a fresh bucket: %v", err)
		}
		err := svc.Allow(limited, now)
		var ge *gateway.Error
		if !errors.As(err, &ge) || ge.Code != gateway.ERATELIMITED || ge.RetryAfter < time.Second {
			t.Errorf("second request = %v, want rate_limited with a Retry-After", err)
		}
		if err := svc.Allow(src, now); err != nil {
			t.Errorf("unlimited source: %v", err)
		}

		st.Close() // the database goes away
		_, err = svc.Ingest(ctx, src, testdata(t, "alertmanager", "alertmanager-firing.json"), "", time.Now())
		if !errors.As(err, &ge) || ge.Code != gateway.EUNAVAILABLE || ge.RetryAfter < time.Second {
			t.Errorf("with the database closed: %v, want unavailable with a Retry-After", err)
		}
	})
}

func TestToken(t *testing.T) {
	tests := []struct {
		name, header, query, want string
	}{
		{"bearer", "Bearer hsrc_abc", "", "hsrc_abc"},
		{"bearer, any case", "bearer  hsrc_abc ", "", "hsrc_abc"},
		{"basic password", "Basic dXNlcjpoc3JjX2FiYw==", "", "hsrc_abc"}, // user:hsrc_abc
		{"query", "", "hsrc_abc", "hsrc_abc"},
		{"a header wins over the query", "Token x", "hsrc_abc", ""},
		{"none", "", "", ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/ingest/x?token="+tt.query, nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		if got := ingest.Token(r); got != tt.want {
			t.Errorf("%s: Token = %q, want %q", tt.name, got, tt.want)
		}
	}
	src := &gateway.Source{Name: "s", TokenHash: gateway.HashSecret("hsrc_abc")}
	for token, want := range map[string]string{"hsrc_abc": "", "hsrc_abd": gateway.EUNAUTHORIZED, "": gateway.EUNAUTHORIZED} {
		if got := gateway.ErrorCode(ingest.Authenticate(src, token)); got != want {
			t.Errorf("Authenticate(%q) = %q, want %q", token, got, want)
		}
	}
}

// Real bodies through the whole path: a PagerDuty acknowledge keeps the
// alert firing at the severity it was triggered with (and the component
// status that severity gives), recording only the acknowledgement; an
// Alertmanager notification that arrives after its alert's end resolves
// the alert although it says "firing".
func TestUpdatesThatMustNotRegress(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx, svc := context.Background(), newService(t, st)
		checkout := &gateway.Component{Name: "Checkout", Position: -1}
		if err := st.CreateComponent(ctx, checkout); err != nil {
			t.Fatal(err)
		}
		m, _ := gateway.ParseMatcher("component=checkout-api")
		if err := st.CreateRule(ctx, &gateway.Rule{Position: -1, Matchers: []gateway.Matcher{m}, ComponentIDs: []string{checkout.ID}}); err != nil {
			t.Fatal(err)
		}
		pd := newSource(t, st, "monitor", "pagerduty", 0)
		am := newSource(t, st, "prometheus", "alertmanager", 0)
		received := time.Date(2026, 11, 24, 1, 40, 0, 0, time.UTC) // the captures' receive time
		for _, step := range []struct {
			src  *gateway.Source
			file string
		}{
			{pd, "pagerduty-enqueue-trigger.json"},
			{pd, "pagerduty-enqueue-acknowledge.json"},
			{am, "alertmanager-firing-single.json"},
			{am, "alertmanager-firing-ended.json"},
		} {
			if _, err := svc.Ingest(ctx, step.src, testdata(t, step.src.Kind, step.file), "application/json", received); err != nil {
				t.Fatalf("%s: %v", step.file, err)
			}
		}
		acked := alertsOf(t, st, store.AlertFilter{SourceID: pd.ID})["checkout-api/high-latency"]
		if acked == nil || acked.Status != gateway.AlertFiring || acked.Severity != gateway.SeverityCritical ||
			acked.Labels["pagerduty_action"] != "acknowledge" || len(acked.Components) != 1 || acked.Components[0].Status != gateway.MajorOutage {
			t.Errorf("acknowledged alert = %+v; want firing, critical, labelled acknowledged, checkout in major outage", acked)
		}
		ended := alertsOf(t, st, store.AlertFilter{SourceID: am.ID})
		if a := ended["145b0bf2ce4fbb98"]; a == nil || a.Status != gateway.AlertResolved || a.EndsAt.IsZero() {
			t.Errorf("alert past its end = %+v; want resolved", a)
		}
		if a := ended["26a1e4c3f0b9d712"]; a == nil || a.Status != gateway.AlertFiring {
			t.Errorf("alert still before its end = %+v; want firing", a)
		}
	})
}

// TestEnds checks what ingest does with an alert's end: a source that
// resolves by silence (the Alertmanager API) gives an alert sent without
// one resolve_timeout from its receipt, a webhook's firing alert keeps
// none, and an alert sent firing with its end passed is stored resolved,
// whatever its format.
func TestEnds(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		svc := ingest.New(st, ingest.Options{Log: storetest.Logger(t), ResolveTimeout: 5 * time.Minute})
		api := newSource(t, st, "api", "alertmanager-api", 0)
		scripts := newSource(t, st, "scripts", "generic", 0)
		now := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)
		post := func(src *gateway.Source, body string) {
			t.Helper()
			if _, err := svc.Ingest(context.Background(), src, []byte(body), "application/json", now); err != nil {
				t.Fatal(err)
			}
		}
		post(api, `[{"labels":{"alertname":"NoEnd"}}]`)
		post(scripts, `{"alerts":[{"fingerprint":"open","status":"firing","summary":"Backup failed"},
			{"fingerprint":"over","status":"firing","summary":"Disk full","ends_at":"2026-11-24T00:59:00Z"}]}`)
		got := alertsOf(t, st, store.AlertFilter{})
		for fp, want := range map[string]struct {
			status gateway.AlertStatus
			ends   time.Time
		}{
			gateway.LabelsFingerprint(map[string]string{"alertname": "NoEnd"}): {gateway.AlertFiring, now.Add(5 * time.Minute)},
			"open": {gateway.AlertFiring, time.Time{}},
			"over": {gateway.AlertResolved, now.Add(-time.Minute)},
		} {
			a := got[fp]
			if a == nil || a.Status != want.status || !a.EndsAt.Equal(want.ends) {
				t.Errorf("alert %s = %+v, want %s ending %v", fp, a, want.status, want.ends)
			}
		}
	})
}
