package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func TestDependenciesRefuseCycles(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ids := map[string]string{}
		for _, n := range []string{"DNS", "Database", "Space Module", "Hummingbird App"} {
			c := &gateway.Component{Name: n, Position: -1}
			must(t, s.CreateComponent(ctx, c))
			ids[n] = c.ID
		}
		must(t, s.SetDependencies(ctx, ids["Space Module"], []string{ids["Database"], ids["DNS"]}))
		must(t, s.SetDependencies(ctx, ids["Database"], []string{ids["DNS"]}))
		must(t, s.SetDependencies(ctx, ids["Hummingbird App"], []string{ids["Space Module"]}))

		got, err := s.Component(ctx, "Space Module")
		must(t, err)
		if want := sortedIDs(ids["Database"], ids["DNS"]); strings.Join(got.DependsOn, ",") != strings.Join(want, ",") {
			t.Errorf("Space Module depends on %v, want %v", got.DependsOn, want)
		}

		// DNS → Hummingbird App closes DNS → App → Space → Database → DNS.
		err = s.SetDependencies(ctx, ids["DNS"], []string{ids["Hummingbird App"]})
		var ge *gateway.Error
		if gateway.ErrorCode(err) != gateway.EUNPROCESSABLE || !asError(err, &ge) || ge.Fields["depends_on"] == "" {
			t.Fatalf("cycle: err = %v, want EUNPROCESSABLE naming depends_on", err)
		}
		if msg := ge.Fields["depends_on"]; !strings.Contains(msg, "DNS → Hummingbird App → Space Module") {
			t.Errorf("cycle message %q does not name the cycle", msg)
		}
		if err := s.SetDependencies(ctx, ids["DNS"], []string{ids["DNS"]}); gateway.ErrorCode(err) != gateway.EUNPROCESSABLE {
			t.Errorf("self-dependency: err = %v, want EUNPROCESSABLE", err)
		}
		dns, err := s.Component(ctx, "DNS")
		must(t, err)
		if len(dns.DependsOn) != 0 {
			t.Errorf("a refused change was written: DNS depends on %v", dns.DependsOn)
		}

		// Deleting a component removes its edges.
		must(t, s.DeleteComponent(ctx, ids["Database"]))
		got, err = s.Component(ctx, "Space Module")
		must(t, err)
		if len(got.DependsOn) != 1 || got.DependsOn[0] != ids["DNS"] {
			t.Errorf("after deleting Database, Space Module depends on %v, want [DNS]", got.DependsOn)
		}
	})
}

func TestSyncDependenciesAndProbes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		probe := gateway.Probe{Name: "dns-main", Kind: gateway.ProbeDNS, Target: "example.com"}
		probe.Defaults()
		d := store.Declaration{
			Components: []store.DeclaredComponent{{Name: "DNS"}, {Name: "Space Module", DependsOn: []string{"DNS"}, Position: 1}},
			Probes:     []store.DeclaredProbe{{Probe: probe, Component: "DNS", Path: "probes[0]"}},
		}
		if _, err := s.SyncConfig(ctx, d); err != nil {
			t.Fatal(err)
		}
		rep, err := s.SyncConfig(ctx, d)
		must(t, err)
		if rep.Created+rep.Updated+rep.Deleted != 0 {
			t.Errorf("second sync changed things: %+v", rep)
		}
		space, err := s.Component(ctx, "Space Module")
		must(t, err)
		dnsC, err := s.Component(ctx, "DNS")
		must(t, err)
		if len(space.DependsOn) != 1 || space.DependsOn[0] != dnsC.ID {
			t.Errorf("Space Module depends on %v, want [%s]", space.DependsOn, dnsC.ID)
		}
		p, err := s.Probe(ctx, "dns-main")
		must(t, err)
		if p.ComponentID != dnsC.ID || p.Interval != 30*time.Second || p.Record != "A" || p.Origin != gateway.OriginConfig {
			t.Errorf("synced probe = %+v", p)
		}
		// Its routing rule sends its alerts to DNS, before any other rule.
		rules, err := s.Rules(ctx)
		must(t, err)
		if len(rules) != 1 || !rules[0].Matches(map[string]string{"probe": "dns-main"}) || rules[0].ComponentIDs[0] != dnsC.ID {
			t.Errorf("rules = %+v, want the probe's rule to DNS", rules)
		}

		// A cycle, or a probe naming an unknown component, stops the sync.
		bad := d
		bad.Components = []store.DeclaredComponent{{Name: "DNS", DependsOn: []string{"Space Module"}}, {Name: "Space Module", DependsOn: []string{"DNS"}}}
		if _, err := s.SyncConfig(ctx, bad); err == nil || !strings.Contains(err.Error(), "cycle") {
			t.Errorf("sync with a cycle: err = %v, want a cycle error", err)
		}
		bad = d
		bad.Probes = []store.DeclaredProbe{{Probe: probe, Component: "Nope", Path: "probes[0]"}}
		if _, err := s.SyncConfig(ctx, bad); err == nil || !strings.Contains(err.Error(), `probes[0].component: no component named "Nope"`) {
			t.Errorf("sync with an unknown component: err = %v", err)
		}
		// A probe gone from the file is deleted with its rule.
		gone := d
		gone.Probes = nil
		rep, err = s.SyncConfig(ctx, gone)
		must(t, err)
		if rep.Deleted != 1 {
			t.Errorf("report = %+v, want 1 deleted", rep)
		}
		if rules, err := s.Rules(ctx); err != nil || len(rules) != 0 {
			t.Errorf("rules left: %+v (%v)", rules, err)
		}
	})
}

func TestProbeClaimOncePerInterval(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := &gateway.Probe{Name: "web", Kind: gateway.ProbeTCP, Target: "127.0.0.1:9"}
		p.Defaults()
		must(t, s.CreateProbe(ctx, p))

		a, err := s.ClaimProbes(ctx, "a", 10, time.Minute)
		must(t, err)
		if len(a) != 1 || a[0].Name != "web" || !a[0].Up {
			t.Fatalf("first claim = %+v, want the new probe, up", a)
		}
		// Claimed: another replica does not get it.
		b, err := s.ClaimProbes(ctx, "b", 10, time.Minute)
		must(t, err)
		if len(b) != 0 {
			t.Fatalf("second replica claimed %+v while a holds it", b)
		}
		// Only the holder finishes it.
		run := a[0]
		run.Fails, run.Up = 1, false
		res := gateway.ProbeResult{At: time.Now(), OK: false, Duration: 12 * time.Millisecond, Message: "connect: refused"}
		next := run.DueAt.Add(run.Interval)
		if ok, err := s.FinishProbe(ctx, run, "b", res, next); ok || err != nil {
			t.Fatalf("FinishProbe by a non-holder = %v, %v; want false, nil", ok, err)
		}
		ok, err := s.FinishProbe(ctx, run, "a", res, next)
		must(t, err)
		if !ok {
			t.Fatal("FinishProbe by the holder = false")
		}
		// Not due again before its next run.
		if c, err := s.ClaimProbes(ctx, "b", 10, time.Minute); err != nil || len(c) != 0 {
			t.Errorf("claimed again before its interval: %+v (%v)", c, err)
		}
		results, err := s.ProbeResults(ctx, p.ID, time.Time{}, 10)
		must(t, err)
		if len(results) != 1 || results[0].OK || results[0].Message != "connect: refused" || results[0].Duration != 12*time.Millisecond {
			t.Errorf("results = %+v", results)
		}
		// The next claim carries the state the run left.
		storetest.Exec(t, s, "UPDATE probes SET next_run_at = ?", time.Now().Add(-time.Second).UTC().Truncate(time.Microsecond))
		c, err := s.ClaimProbes(ctx, "b", 10, time.Minute)
		must(t, err)
		if len(c) != 1 || c[0].Up || c[0].Fails != 1 {
			t.Errorf("claim after the run = %+v, want down with 1 failure", c)
		}
	})
}

func sortedIDs(ids ...string) []string { return slices.Sorted(slices.Values(ids)) }

func asError(err error, target **gateway.Error) bool { return errors.As(err, target) }
