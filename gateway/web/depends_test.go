package web_test

import (
	"context"
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
