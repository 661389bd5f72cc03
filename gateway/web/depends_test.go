package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestStatusPageShowsDependencies: a component's entry says what it
// depends on, and the page follows a change of the graph at once.
func TestStatusPageShowsDependencies(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		body := e.mustGet("/")
		if want := "Depends on"; strings.Contains(body, want) {
			t.Fatalf("a page without dependencies says %q", want)
		}
		for _, name := range []string{"DNS", "Database"} {
			if err := st.CreateComponent(e.ctx, &gateway.Component{Name: name, Position: -1}); err != nil {
				t.Fatal(err)
			}
		}
		app, dns, db := mustComponent(t, st, "Hummingbird App"), mustComponent(t, st, "DNS"), mustComponent(t, st, "Database")
		e.advance(time.Second)
		if err := st.SetDependencies(e.ctx, app.ID, []string{db.ID, dns.ID}); err != nil {
			t.Fatal(err)
		}
		body = e.mustGet("/")
		wantIn(t, "the page", body, `<p class="component-depends">Depends on DNS and Database</p>`)
	})
}

// TestStatusPageShowsProbeChart: a probed component's entry has its
// response-time chart, server-rendered SVG, with its failed runs marked.
func TestStatusPageShowsProbeChart(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		app := mustComponent(t, st, "Hummingbird App")
		p := &gateway.Probe{Name: "app", Kind: gateway.ProbeTCP, Target: "127.0.0.1:9", ComponentID: app.ID}
		p.Defaults()
		if err := st.CreateProbe(e.ctx, p); err != nil {
			t.Fatal(err)
		}
		if body := e.mustGet("/"); strings.Contains(body, "probe-chart") {
			t.Error("a chart before any run")
		}
		for i, ok := range []bool{true, false, true, true} {
			runs, err := st.ClaimProbes(e.ctx, "test", 1, time.Minute)
			if err != nil || len(runs) != 1 {
				t.Fatalf("claim %d: %v %v", i, runs, err)
			}
			res := gateway.ProbeResult{At: e.clock(), OK: ok, Duration: time.Duration(10*(i+1)) * time.Millisecond, Message: "m"}
			if _, err := st.FinishProbe(e.ctx, runs[0], "test", res, e.clock()); err != nil {
				t.Fatal(err)
			}
			e.advance(time.Second)
		}
		e.advance(time.Minute) // the page is rendered as of the minute
		body := e.mustGet("/")
		wantIn(t, "the page", body, `<polyline class="rt" points="0.0,28.5 100.0,20.0 200.0,11.5 300.0,3.0"/>`,
			`<line class="fail" x1="100.0" x2="100.0"`, "Response time 40 ms (peak 40 ms over the last 4 checks) · 75.00% of checks succeeded in 24 hours")
	})
}

func mustComponent(t *testing.T, st *store.Store, name string) *gateway.Component {
	t.Helper()
	c, err := st.Component(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestIncidentNamesItsRootCause: an incident with a root cause carries it
// in the Statuspage-compatible JSON ({"component":{"id","name"},
// "inferred"}, null without one) and the page names it ("Probable cause:
// DNS" while inferred, "Cause: DNS" once confirmed), the components
// affected via it.
func TestIncidentNamesItsRootCause(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		inc := e.seedOutage()
		if err := st.CreateComponent(e.ctx, &gateway.Component{Name: "DNS", Position: -1}); err != nil {
			t.Fatal(err)
		}
		dns := mustComponent(t, st, "DNS")
		rootCause := func(want string) {
			t.Helper()
			var body struct {
				Incidents []struct {
					ID        string          `json:"id"`
					RootCause json.RawMessage `json:"root_cause"`
				} `json:"incidents"`
			}
			if err := json.Unmarshal([]byte(e.mustGet("/api/v2/incidents.json")), &body); err != nil {
				t.Fatal(err)
			}
			if len(body.Incidents) != 1 || string(body.Incidents[0].RootCause) != want {
				t.Errorf("incidents.json root_cause = %s, want %s", body.Incidents[0].RootCause, want)
			}
		}
		rootCause("null")
		if body := e.mustGet("/incidents/" + inc.ID); strings.Contains(body, "cause:") || strings.Contains(body, "Cause:") {
			t.Error("an incident without a root cause names one")
		}
		for _, inferred := range []bool{true, false} {
			e.advance(time.Minute)
			if err := st.InTx(e.ctx, func(tx *store.Tx) error {
				got, err := tx.Incident(inc.ID)
				if err != nil {
					return err
				}
				got.RootCause = &gateway.RootCause{Component: gateway.RootCauseComponent{ID: dns.ID}, Inferred: inferred}
				return tx.SaveIncident(got)
			}); err != nil {
				t.Fatal(err)
			}
			rootCause(`{"component":{"id":"` + dns.ID + `","name":"DNS"},"inferred":` + fmt.Sprint(inferred) + `}`)
			word := "Cause: DNS"
			if inferred {
				word = "Probable cause: DNS"
			}
			for _, path := range []string{"/", "/incidents/" + inc.ID} {
				body := e.mustGet(path)
				wantIn(t, path, body, `<p class="affected cause">`+word+`</p>`)
				wantIn(t, path, body, `(Hummingbird App) via DNS.</p>`)
			}
		}
	})
}
