package probes_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/ingest"
	"github.com/heraldstatus/herald/gateway/probes"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/internal/loopdns"
	"github.com/heraldstatus/herald/internal/testcert"
)

// harness runs a Runner on a real store, one run at a time: runOnce makes
// every probe due, ticks, and waits until the runs have been recorded.
type harness struct {
	t      *testing.T
	st     *store.Store
	runner *probes.Runner
	runs   int
}

func newHarness(t *testing.T, st *store.Store, o probes.Options) *harness {
	o.Store, o.Ingest, o.Log = st, ingest.New(st, ingest.Options{Log: storetest.Logger(t)}), storetest.Logger(t)
	return &harness{t: t, st: st, runner: probes.New(o)}
}

func (h *harness) runOnce() {
	h.t.Helper()
	storetest.Exec(h.t, h.st, "UPDATE probes SET next_run_at = ?", time.Now().Add(-time.Second).UTC().Truncate(time.Microsecond))
	n, err := h.runner.Tick(context.Background())
	if err != nil || n == 0 {
		h.t.Fatalf("Tick = %d, %v; want runs", n, err)
	}
	h.runs += n
	deadline := time.Now().Add(10 * time.Second)
	for {
		var recorded int
		if err := h.st.DB().QueryRow("SELECT COUNT(*) FROM probe_results").Scan(&recorded); err != nil {
			h.t.Fatal(err)
		}
		if recorded >= h.runs {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%d of %d runs recorded", recorded, h.runs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) alert(fp string) *store.AlertRecord {
	h.t.Helper()
	as, err := h.st.Alerts(context.Background(), store.AlertFilter{Fingerprint: fp})
	if err != nil {
		h.t.Fatal(err)
	}
	if len(as) == 0 {
		return nil
	}
	return as[0]
}

// TestProbeAlertsGoThroughIngest plays a DNS fault: the probe's alert
// fires after `failures` bad runs, routed to its component through the
// normal pipeline (source probe, labels probe/kind/target), says which
// resolver fails and how, and resolves when the resolver answers right.
func TestProbeAlertsGoThroughIngest(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dnsC := &gateway.Component{Name: "DNS", Position: -1}
		if err := st.CreateComponent(ctx, dnsC); err != nil {
			t.Fatal(err)
		}
		good, bad := newResolver(t), newResolver(t)
		p := dnsProbe(good.Addr, bad.Addr)
		p.Name, p.ComponentID = "dns-main", dnsC.ID
		if err := st.CreateProbe(ctx, p); err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, st, probes.Options{})

		h.runOnce()
		if a := h.alert("probe:dns-main"); a != nil {
			t.Fatalf("alert after a good run: %+v", a)
		}
		bad.Set(loopdns.ServFail)
		h.runOnce() // one failure of two: nothing yet
		if a := h.alert("probe:dns-main"); a != nil {
			t.Fatalf("alert after one failure (failures: 2): %+v", a)
		}
		h.runOnce()
		a := h.alert("probe:dns-main")
		if a == nil || a.Status != gateway.AlertFiring {
			t.Fatalf("after two failures: alert %+v, want firing", a)
		}
		if a.SourceName != "probe" || a.Labels["probe"] != "dns-main" || a.Labels["kind"] != "dns" || a.Labels["target"] != "example.test" {
			t.Errorf("alert source %q labels %v", a.SourceName, a.Labels)
		}
		if !strings.Contains(a.Summary, bad.Addr+" SERVFAIL") {
			t.Errorf("summary %q does not say which resolver fails and how", a.Summary)
		}
		if len(a.Components) != 1 || a.Components[0].ComponentID != dnsC.ID || a.Components[0].Status != gateway.MajorOutage {
			t.Errorf("alert components %+v, want DNS major_outage", a.Components)
		}
		bad.Set(loopdns.Silent)
		h.runOnce()
		if a := h.alert("probe:dns-main"); !strings.Contains(a.Summary, bad.Addr+" timeout") {
			t.Errorf("summary %q does not follow the failure (timeout)", a.Summary)
		}
		bad.Set(loopdns.Right)
		h.runOnce()
		if a := h.alert("probe:dns-main"); a.Status != gateway.AlertResolved {
			t.Errorf("after recovery: alert %s, want resolved", a.Status)
		}
		results, err := st.ProbeResults(ctx, p.ID, time.Time{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		var oks []bool
		for _, r := range results {
			oks = append(oks, r.OK)
		}
		if len(oks) != 5 || !oks[0] || oks[1] || oks[3] || !oks[4] {
			t.Errorf("results newest first: %v, want [true false false false true]", oks)
		}
	})
}

// TestProbeWarnsOfCertificateExpiry: a certificate that expires within
// tls_expiry_warning fires a warning of its own while the probe is up.
func TestProbeWarnsOfCertificateExpiry(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		server, client := testcert.New(t, time.Now().Add(72*time.Hour))
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		srv.TLS = server
		srv.StartTLS()
		defer srv.Close()
		p := &gateway.Probe{Name: "web", Kind: gateway.ProbeHTTP, Target: srv.URL}
		p.Defaults()
		if err := st.CreateProbe(ctx, p); err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, st, probes.Options{TLS: client})
		h.runOnce()
		if a := h.alert("probe:web"); a != nil {
			t.Errorf("the probe is up but alerts: %+v", a)
		}
		a := h.alert("probe:web:tls_expiry")
		if a == nil || a.Status != gateway.AlertFiring || a.Severity != gateway.SeverityWarning || !strings.Contains(a.Summary, "in 2 days") {
			t.Fatalf("expiry alert = %+v, want a firing warning", a)
		}
		// With a threshold under the time left, the warning resolves.
		p.TLSExpiryWarning = 24 * time.Hour
		if err := st.UpdateProbe(ctx, p); err != nil {
			t.Fatal(err)
		}
		h.runOnce()
		if a := h.alert("probe:web:tls_expiry"); a.Status != gateway.AlertResolved {
			t.Errorf("after renewal: %s, want resolved", a.Status)
		}
	})
}

// TestDeletedProbesAlertResolves: a probe deleted while it is down leaves
// no alert firing for good: the runner resolves it.
func TestDeletedProbesAlertResolves(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		p := &gateway.Probe{Name: "gone", Kind: gateway.ProbeTCP, Target: "127.0.0.1:1", Failures: 1, Timeout: time.Second}
		p.Defaults()
		if err := st.CreateProbe(ctx, p); err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, st, probes.Options{})
		h.runOnce()
		if a := h.alert("probe:gone"); a == nil || a.Status != gateway.AlertFiring {
			t.Fatalf("alert = %+v, want firing", a)
		}
		if err := st.DeleteProbe(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		// A new runner sweeps at its first tick.
		if _, err := newHarness(t, st, probes.Options{}).runner.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if a := h.alert("probe:gone"); a.Status != gateway.AlertResolved {
			t.Errorf("after deleting the probe: alert %s, want resolved", a.Status)
		}
	})
}
