// Package probes runs Herald's built-in checks (DNS, HTTP, TCP) and turns
// their results into alerts of the source "probe", which go through the
// ingest pipeline like any monitoring tool's: routed to the probe's
// component, correlated, flap-damped and held in maintenance alike.
//
// A probe's row in the database is its timer: a runner claims due probes
// with a lease, runs them, records the result and the next due time in one
// transaction and gives the lease back. Several replicas may run a Runner
// on one PostgreSQL: each probe runs once per interval on whichever claims
// it, and nothing a run needs is kept in any process.
package probes

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/ingest"
	"github.com/heraldstatus/herald/gateway/metrics"
	"github.com/heraldstatus/herald/gateway/store"
)

// lease is how long a claimed probe stays this runner's: longer than the
// longest timeout a probe may have, so a live run is never taken over.
const lease = gateway.MaxProbeTimeout + 15*time.Second

// Options configure a Runner.
type Options struct {
	Store   *store.Store
	Ingest  *ingest.Service
	Log     *slog.Logger
	Metrics *metrics.Metrics
	// Owner names this process in leases.
	Owner string
	// Poll is how often due probes are looked for (default 200 ms).
	Poll time.Duration
	// Concurrency bounds the probes running at once (default 256).
	Concurrency int
	// SystemResolvers are the DNS servers (host:port) a dns probe without
	// resolvers asks; default those of /etc/resolv.conf.
	SystemResolvers []string
	// TLS is the base TLS configuration of http probes (tests trust their
	// own certificate authority with it); nil means the system's roots.
	TLS *tls.Config
	// Started, when set, is called as each run starts with the time it was
	// due: the benchmark measures schedule drift with it.
	Started func(name string, due, started time.Time)
}

// sweepEvery is how often a runner resolves the alerts of probes that are
// gone (see sweep).
const sweepEvery = 10 * time.Second

// Runner runs due probes until its context ends.
type Runner struct {
	o         Options
	sem       chan struct{}
	dialer    *net.Dialer
	src       *gateway.Source
	lastSweep time.Time
}

// New returns a runner; call Run to start it.
func New(o Options) *Runner {
	if o.Poll <= 0 {
		o.Poll = 200 * time.Millisecond
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 256
	}
	if o.Owner == "" {
		o.Owner = gateway.NewID()
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New()
	}
	if o.SystemResolvers == nil {
		o.SystemResolvers = systemResolvers()
	}
	return &Runner{o: o, sem: make(chan struct{}, o.Concurrency), dialer: &net.Dialer{}}
}

// Run claims and runs due probes every Poll until ctx ends, then waits for
// the runs in flight.
func (r *Runner) Run(ctx context.Context) error {
	t := time.NewTicker(r.o.Poll)
	defer t.Stop()
	for {
		if _, err := r.Tick(ctx); err != nil && ctx.Err() == nil {
			r.o.Log.Warn("probes", "err", err)
		}
		select {
		case <-ctx.Done():
			for range cap(r.sem) { // the runs in flight finish and record
				r.sem <- struct{}{}
			}
			return nil
		case <-t.C:
		}
	}
}

// Tick claims as many due probes as it has room for and starts them; it
// reports how many it started.
func (r *Runner) Tick(ctx context.Context) (int, error) {
	if r.src == nil {
		src, err := r.o.Store.ProbeSource(ctx)
		if err != nil {
			return 0, err
		}
		r.src = src
	}
	if time.Since(r.lastSweep) >= sweepEvery {
		if err := r.sweep(ctx); err != nil {
			return 0, err
		}
		r.lastSweep = time.Now()
	}
	free := cap(r.sem) - len(r.sem)
	if free == 0 {
		return 0, nil
	}
	runs, err := r.o.Store.ClaimProbes(ctx, r.o.Owner, free, lease)
	if err != nil {
		return 0, err
	}
	for _, run := range runs {
		r.sem <- struct{}{}
		go func() {
			defer func() { <-r.sem }()
			r.run(context.WithoutCancel(ctx), run)
		}()
	}
	return len(runs), nil
}

// sweep resolves the firing alerts that no probe will resolve any more: a
// probe deleted or renamed while it was down, or no longer an http probe
// while its certificate warning fired. Without it their components would
// stay down for good. Replicas may sweep at once: a second resolve of an
// alert is a duplicate, which ingest ignores.
func (r *Runner) sweep(ctx context.Context) error {
	fps, err := r.o.Store.OrphanProbeAlerts(ctx, r.src.ID)
	if err != nil || len(fps) == 0 {
		return err
	}
	now := time.Now().UTC()
	alerts := make([]gateway.Alert, len(fps))
	for i, fp := range fps {
		alerts[i] = gateway.Alert{Fingerprint: fp, Status: gateway.AlertResolved, StartsAt: now, EndsAt: now,
			Raw: []byte(`{"status":"resolved","reason":"the probe was removed or changed"}`)}
	}
	_, err = r.o.Ingest.Accept(ctx, r.src, alerts, now)
	return err
}

// run checks one probe, sends the alerts its state change calls for and
// records the result.
func (r *Runner) run(ctx context.Context, run store.ProbeRun) {
	started := time.Now()
	if r.o.Started != nil {
		r.o.Started(run.Name, run.DueAt, started)
	}
	res := r.Check(ctx, &run.Probe)
	res.At = started.UTC()
	r.o.Metrics.ProbeDuration.WithLabelValues(run.Name, run.Kind).Observe(res.Duration.Seconds())
	up := 0.0
	if res.OK {
		up = 1
	}
	r.o.Metrics.ProbeUp.WithLabelValues(run.Name).Set(up)

	alerts := advance(&run, res)
	if len(alerts) > 0 {
		if _, err := r.o.Ingest.Accept(ctx, r.src, alerts, time.Now()); err != nil {
			// The state is not recorded either: the next run sends again.
			r.o.Log.Error("probe alert", "probe", run.Name, "err", err)
			return
		}
	}
	next := nextRun(run.DueAt, run.Interval, time.Now())
	ok, err := r.o.Store.FinishProbe(ctx, run, r.o.Owner, res.ProbeResult, next)
	switch {
	case err != nil:
		r.o.Log.Error("record probe result", "probe", run.Name, "err", err)
	case !ok:
		r.o.Log.Debug("probe changed or taken over during its run; result dropped", "probe", run.Name)
	}
}

// nextRun is the first due time after now on due's schedule: a run that
// started late does not shift the ones after it, and runs missed while no
// replica was up are skipped, not caught up in a burst.
func nextRun(due time.Time, every time.Duration, now time.Time) time.Time {
	next := due.Add(every)
	if !next.After(now) {
		next = due.Add(every * (now.Sub(due)/every + 1))
	}
	return next
}

// Outcome is what one run of a probe found.
type Outcome struct {
	gateway.ProbeResult
	// TLSExpiry is the server certificate's expiry (http over TLS).
	TLSExpiry time.Time
}

// Check runs probe p once, bounded by its timeout, and says what it found;
// it records nothing and sends no alert.
func (r *Runner) Check(ctx context.Context, p *gateway.Probe) Outcome {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	t0 := time.Now()
	var out Outcome
	switch p.Kind {
	case gateway.ProbeDNS:
		out = r.checkDNS(ctx, p)
	case gateway.ProbeHTTP:
		out = r.checkHTTP(ctx, p)
	case gateway.ProbeTCP:
		out = r.checkTCP(ctx, p)
	default:
		out.Message = "unknown kind " + p.Kind
	}
	out.Duration = time.Since(t0)
	return out
}

func (r *Runner) checkTCP(ctx context.Context, p *gateway.Probe) Outcome {
	conn, err := r.dialer.DialContext(ctx, "tcp", p.Target)
	if err != nil {
		return Outcome{ProbeResult: gateway.ProbeResult{Message: "connect " + p.Target + ": " + failure(ctx, err)}}
	}
	conn.Close()
	return Outcome{ProbeResult: gateway.ProbeResult{OK: true, Message: "connected to " + p.Target}}
}

// failure names a network error as an operator would: "timeout" rather
// than Go's wrapped error text.
func failure(ctx context.Context, err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// advance moves run's state by one result and returns the alerts to send:
// a firing alert while the probe is down (every run, so that its message
// says what fails now), a resolved one when it comes back, and the same
// for the certificate-expiry warning.
func advance(run *store.ProbeRun, res Outcome) []gateway.Alert {
	var out []gateway.Alert
	if res.OK {
		run.Oks, run.Fails = run.Oks+1, 0
		if !run.Up && run.Oks >= run.Successes {
			run.Up = true
			out = append(out, alert(&run.Probe, "", gateway.AlertResolved, run.Severity, "recovered: "+res.Message, res.At))
		}
	} else {
		run.Fails, run.Oks = run.Fails+1, 0
		if run.Up && run.Fails >= run.Failures {
			run.Up = false
		}
		if !run.Up {
			out = append(out, alert(&run.Probe, "", gateway.AlertFiring, run.Severity, res.Message, res.At))
		}
	}
	if run.Kind == gateway.ProbeHTTP && !res.TLSExpiry.IsZero() {
		left := res.TLSExpiry.Sub(res.At)
		switch expiring := left < run.TLSExpiryWarning; {
		case expiring:
			run.TLSWarning = true
			out = append(out, alert(&run.Probe, "tls_expiry", gateway.AlertFiring, gateway.SeverityWarning,
				"TLS certificate of "+run.Target+" expires "+res.TLSExpiry.UTC().Format(time.RFC3339)+" (in "+days(left)+")", res.At))
		case run.TLSWarning:
			run.TLSWarning = false
			out = append(out, alert(&run.Probe, "tls_expiry", gateway.AlertResolved, gateway.SeverityWarning,
				"TLS certificate of "+run.Target+" renewed", res.At))
		}
	}
	return out
}

// alert builds a probe's alert; check is "" for the probe's own up/down
// alert, or the name of a side check (tls_expiry) with its own fingerprint.
func alert(p *gateway.Probe, check string, status gateway.AlertStatus, sev gateway.Severity, msg string, at time.Time) gateway.Alert {
	labels := map[string]string{"probe": p.Name, "kind": p.Kind, "target": p.Target, "alertname": "ProbeFailed"}
	fp := "probe:" + p.Name
	if check != "" {
		labels["check"], labels["alertname"] = check, "ProbeCertificateExpiring"
		fp += ":" + check
	}
	summary := p.Kind + " probe " + p.Name + ": " + msg
	raw, _ := json.Marshal(map[string]any{"probe": p.Name, "status": status, "message": msg})
	a := gateway.Alert{Fingerprint: fp, Status: status, Severity: sev, Summary: summary, Labels: labels,
		Annotations: map[string]string{"summary": summary}, StartsAt: at, Raw: raw}
	if status == gateway.AlertResolved {
		a.EndsAt = at
	}
	return a
}

func days(d time.Duration) string {
	if d < 0 {
		return "the past: it has expired"
	}
	n := int(d.Hours() / 24)
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}
