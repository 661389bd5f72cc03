package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/catalog"
	"github.com/heraldstatus/herald/gateway/config"
	"github.com/heraldstatus/herald/gateway/correlate"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/ingest"
	"github.com/heraldstatus/herald/gateway/metrics"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/probes"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/internal/loopdns"
	"github.com/heraldstatus/herald/subscribers"
)

// demoOptions are herald demo's flags.
type demoOptions struct {
	database string
	step     time.Duration
	exit     bool
}

func (a *app) demoCommand() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Serve a demo status page and replay the seed outage on it",
		Long: `Demo builds the seed's page (Eptura Workplace: ten modules under "Eptura
Workplace Modules", the Hummingbird App under "Apps", all of them depending
on DNS under "Infrastructure") in a fresh database, with 90 days of history,
a planned maintenance and three demo subscribers, then serves it on
HERALD_ADDR (default :8080) and replays the outage of 2021-09-16 in about
two minutes. A DNS server of its own on 127.0.0.1 answers the sites' name,
and a dns probe asks it; when the outage begins the server answers
SERVFAIL. Monitoring alerts arrive through the real ingest endpoint
(/ingest/prometheus, Alertmanager's webhook format) first, Herald
correlates them into one incident, and the probe's alert, once it has
failed four times in a row, joins it on DNS; support's updates follow the
seed's words from Investigating to the postmortem, and the server answers
again when the sites recover. The emails land in the outbox
(HERALD_OUTBOX_DIR, default ./outbox), one per update per subscriber. It
serves on until interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.demo(cmd.Context(), o) },
	}
	cmd.Flags().StringVar(&o.database, "database", "", "database URL (default: a fresh SQLite file in a temporary directory)")
	cmd.Flags().DurationVar(&o.step, "step", time.Second, "how long one second of the replay's script takes")
	cmd.Flags().BoolVar(&o.exit, "exit", false, "stop once the replay is over instead of serving on")
	return cmd
}

// demoModules are the seed's ten modules, with the label value their
// alerts carry.
var demoModules = []struct{ name, label string }{
	{"Space Module", "space"}, {"Move Module", "move"}, {"Reservation Module", "reservation"},
	{"Service Request Module", "service-request"}, {"Asset Module", "asset"}, {"Inventory Module", "inventory"},
	{"Mail Module", "mail"}, {"Copy Module", "copy"}, {"Visitor Module", "visitor"}, {"Insights Module", "insights"},
}

// demoSupport is who posts the demo's updates.
var demoSupport = gateway.Principal{Kind: "user", Name: "Eptura support", Role: gateway.RoleSupport}

func (a *app) demo(ctx context.Context, o demoOptions) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	if o.step <= 0 {
		o.step = time.Second
	}
	cfg.DatabaseURL = o.database
	if o.database == "" {
		dir, err := os.MkdirTemp("", "herald-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DatabaseURL = "sqlite:" + filepath.Join(dir, "herald.db")
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if _, set := a.env("HERALD_PUBLIC_URL"); !set {
		cfg.PublicURL = fmt.Sprintf("http://localhost:%d", port)
	}
	token := make([]byte, 16)
	_, _ = rand.Read(token)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The resolver the demo's DNS probe asks: it lives as long as the demo.
	resolver, err := loopdns.Start(ctx, loopdns.Options{Right: demoSiteAddress})
	if err != nil {
		ln.Close()
		return fmt.Errorf("demo DNS server: %w", err)
	}
	defer resolver.Close()
	demoConfig(cfg, hex.EncodeToString(token), o.step, resolver.Addr)
	log := a.logger(cfg)
	m := metrics.New()

	chans, closeChans, err := notifiers(cfg, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer closeChans()
	st, err := store.Open(ctx, cfg.DatabaseURL, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer st.Close()
	var disp atomic.Pointer[notify.Dispatcher]
	wake := func() {
		if d := disp.Load(); d != nil {
			d.Wake()
		}
	}
	every, poll := demoCadence(o.step)
	svc := incidents.New(incidents.Options{Store: st, Settings: demoSettings(cfg), Page: pageInfo(cfg), PublicURL: cfg.PublicURL,
		Log: log.With("component", "incidents"), EventWritten: wake, ReconcileEvery: every, Poll: poll})
	subs, err := demoPage(ctx, st, svc, cfg, log, wake)
	if err != nil {
		ln.Close()
		return err
	}
	// HERALD_ADMIN_TOKEN opens the admin API, as on herald serve.
	if cfg.AdminToken != "" {
		if err := bootstrapKey(ctx, st, cfg, log); err != nil {
			ln.Close()
			return err
		}
	}

	srv := herhttp.New(herhttp.Options{Log: log, Metrics: m, Version: version, Page: pageInfo(cfg), Wake: wake,
		IngestBodyLimit: int64(cfg.Limits.IngestBody), PublicBodyLimit: int64(cfg.Limits.PublicBody)})
	srv.Publish(herhttp.Services{Store: st, Incidents: svc, Subscribers: subs})
	hs := srv.HTTPServer(cfg.Addr)
	d := newDispatcher(st, chans, subs.Links, log, m)
	disp.Store(d)
	// The probe's alerts go through an ingest service of their own, as on
	// herald serve.
	pr := probes.New(probes.Options{Store: st, Log: log.With("component", "probes"), Metrics: m,
		Ingest: ingest.New(st, ingest.Options{Log: log.With("component", "probes"), Metrics: m,
			FlapWindow: time.Duration(cfg.Correlation.Flap.Window)})})

	var wg sync.WaitGroup
	run := func(name string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil && !errors.Is(err, http.ErrServerClosed) && ctx.Err() == nil {
				log.Error("demo: "+name+" stopped", "err", err)
				cancel()
			}
		}()
	}
	run("http server", func() error { return hs.Serve(ln) })
	run("dispatcher", func() error { return d.Run(ctx) })
	run("incidents", func() error { return svc.Run(ctx) })
	run("probes", func() error { return pr.Run(ctx) })
	if a.ready != nil {
		a.ready(ln.Addr().String())
	}
	fmt.Fprintf(a.stdout, "Herald demo: open %s — the outage begins in a few seconds; mail goes to %s\n", cfg.PublicURL, cfg.OutboxDir)

	r := &replayer{a: a, st: st, svc: svc, step: o.step, token: cfg.Sources[0].Token, dns: resolver, probe: cfg.Probes[0],
		ingest: fmt.Sprintf("http://127.0.0.1:%d/ingest/%s", port, cfg.Sources[0].Name), client: &http.Client{Timeout: 10 * time.Second}}
	err = r.run(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		log.Error("demo: replay", "err", err)
	case err == nil && !o.exit:
		fmt.Fprintln(a.stdout, "Herald demo: the replay is over; the page stays up until you press Ctrl-C.")
		<-ctx.Done()
	case err == nil:
		err = demoDrain(ctx, st, d)
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	_ = hs.Shutdown(sctx)
	wg.Wait()
	return err
}

// The demo's DNS: the name its probe asks for and the address the demo's
// DNS server answers while it is well (from the documentation range).
const (
	demoSiteName    = "workplace.eptura.example"
	demoSiteAddress = "192.0.2.10"
)

// demoProbeFailures is how many failed runs in a row the demo's DNS probe
// takes to fire: enough that the modules' alerts come first and open the
// incident, as in the seed, where the symptoms were seen before the cause.
const demoProbeFailures = 4

// demoProbeInterval is the DNS probe's interval: five seconds of the
// script, within what a probe may have.
func demoProbeInterval(step time.Duration) time.Duration {
	return min(max(5*step, gateway.MinProbeInterval), time.Minute)
}

// demoCadence is how often the demo correlates (ReconcileEvery) and looks
// for due timers (Poll): as often as herald serve at the real pace, and
// scaled with the step when the replay runs faster. group_wait is scaled
// (ten steps), and correlation must keep up with it: at herald serve's
// cadence, a pass every second or so, a fast replay's storm (one alert
// every two steps) spans passes, and the first module's incident, opened
// by one pass, is announced at the end of its short group_wait before the
// next pass sees the other dependents: a second incident for one outage.
func demoCadence(step time.Duration) (every, poll time.Duration) {
	return min(step, time.Second), min(step, 250*time.Millisecond)
}

// demoDrain waits, before --exit stops the demo, until the mail of the
// last updates is out: every event planned and no delivery queued or
// being sent. Planning here too is harmless (an event is planned once)
// and spares waiting for the dispatcher's next look.
func demoDrain(ctx context.Context, st *store.Store, d *notify.Dispatcher) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		planned, _, err := st.PlanPending(ctx, 1000)
		if err != nil {
			return err
		}
		q, err := st.QueueStats(ctx, time.Now(), nil)
		if err != nil {
			return err
		}
		left := q.Depth[gateway.DeliveryQueued] + q.Depth[gateway.DeliverySending]
		if planned == 0 && left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d deliveries still queued 30 s after the replay", left)
		}
		d.Wake()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// demoConfig declares the seed's page: its components (the modules and
// the app depending on DNS), the monitoring source the replay posts to,
// routing rules by the alerts' module label, a DNS probe against the
// demo's resolver and correlation times short enough to watch.
func demoConfig(cfg *config.Config, token string, step time.Duration, resolver string) {
	cfg.Page = config.Page{Name: "Eptura Workplace", URL: cfg.PublicURL}
	group := config.ComponentEntry{Group: "Eptura Workplace Modules", Description: "The modules of the Eptura Workplace web application."}
	cfg.Rules = nil
	sev := func(critical gateway.ComponentStatus) map[gateway.Severity]gateway.ComponentStatus {
		return map[gateway.Severity]gateway.ComponentStatus{gateway.SeverityCritical: critical, gateway.SeverityWarning: gateway.DegradedPerformance}
	}
	for _, mod := range demoModules {
		group.Components = append(group.Components, config.ComponentDecl{Name: mod.name, DependsOn: []string{"DNS"}})
		cfg.Rules = append(cfg.Rules, config.Rule{Name: mod.label, Components: []string{mod.name}, SeverityStatus: sev(gateway.MajorOutage),
			Matchers: []gateway.Matcher{{Name: "module", Op: gateway.MatchEqual, Value: mod.label}}})
	}
	cfg.Components = []config.ComponentEntry{group, {Group: "Apps",
		Components: []config.ComponentDecl{{Name: "Hummingbird App", Description: "The mobile app for iOS and Android.", DependsOn: []string{"DNS"}}}},
		{Group: "Infrastructure", Components: []config.ComponentDecl{{Name: "DNS",
			Description: "Name resolution for the Eptura Workplace sites and the app's servers."}}}}
	cfg.Rules = append(cfg.Rules, config.Rule{Name: "hummingbird", Components: []string{"Hummingbird App"}, SeverityStatus: sev(gateway.PartialOutage),
		Matchers: []gateway.Matcher{{Name: "app", Op: gateway.MatchEqual, Value: "hummingbird"}}})
	cfg.Sources = []config.Source{{Name: "prometheus", Kind: "alertmanager", Token: token}}
	every := demoProbeInterval(step)
	cfg.Probes = []config.Probe{{Name: "dns", Kind: gateway.ProbeDNS, Component: "DNS", Target: demoSiteName,
		Resolvers: []string{resolver}, Expect: []string{demoSiteAddress}, Interval: config.Duration(every),
		Timeout: config.Duration(min(every, 2*time.Second)), Failures: demoProbeFailures}}
	cfg.Correlation = config.Correlation{GroupWait: config.Duration(10 * step), GroupInterval: config.Duration(8 * step),
		Window: config.Duration(30 * time.Minute), ResolveAfter: config.Duration(30 * step), MinAlerts: 1,
		ResolveTimeout: config.Duration(5 * time.Minute),
		Flap:           config.Flap{Changes: 4, Window: config.Duration(30 * time.Minute)}, Publish: config.PublishAuto}
}

func demoSettings(cfg *config.Config) correlate.Settings {
	c := cfg.Correlation
	return correlate.Settings{GroupBy: c.GroupBy, GroupWait: time.Duration(c.GroupWait), GroupInterval: time.Duration(c.GroupInterval),
		Window: time.Duration(c.Window), ResolveAfter: time.Duration(c.ResolveAfter), MinAlerts: c.MinAlerts,
		FlapChanges: c.Flap.Changes, FlapWindow: time.Duration(c.Flap.Window)}
}

// demoPage migrates the store and fills it: the components as if created
// 95 days ago (so the uptime bars are full), two old incidents, a
// maintenance planned in three days, and three confirmed subscribers. The
// subscribers service is built as herald serve builds it, so the demo
// honours the same settings (HERALD_ALLOW_PRIVATE_TARGETS, secret_key).
func demoPage(ctx context.Context, st *store.Store, svc *incidents.Service, cfg *config.Config, log *slog.Logger, wake func()) (*subscribers.Service, error) {
	if _, err := st.Migrate(ctx); err != nil {
		return nil, err
	}
	if err := st.Prepare(ctx); err != nil {
		return nil, err
	}
	now := time.Now()
	at := now.Add(-95 * 24 * time.Hour)
	st.Now = func() time.Time { return at } // nothing else runs yet
	defer func() { st.Now = time.Now }()
	if _, err := catalog.New(st).SyncConfig(ctx, declaration(cfg)); err != nil {
		return nil, fmt.Errorf("sync the demo page: %w", err)
	}
	open, err := st.Incidents(ctx, store.IncidentFilter{Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(open) == 0 { // a fresh database: give it a past
		past := []struct {
			ago, lasted time.Duration
			name, body  string
			comps       map[string]gateway.ComponentStatus
			resolution  string
		}{
			{33 * 24 * time.Hour, 2 * time.Hour, "Slow reports in Insights", "Reports in the Insights Module take minutes to load. We are investigating.",
				map[string]gateway.ComponentStatus{"Insights Module": gateway.DegradedPerformance}, "Report generation is back to normal speed."},
			{9*24*time.Hour + 5*time.Hour, 40 * time.Minute, "Hummingbird App sign-in failures", "Some users cannot sign in to the Hummingbird App.",
				map[string]gateway.ComponentStatus{"Hummingbird App": gateway.PartialOutage}, "Sign-in works again for every user."},
		}
		for _, p := range past {
			at = now.Add(-p.ago)
			inc, err := svc.Create(ctx, demoSupport, incidents.NewIncident{Name: p.name, Status: gateway.Investigating, Body: p.body, Components: p.comps})
			if err != nil {
				return nil, fmt.Errorf("demo history: %w", err)
			}
			at = at.Add(p.lasted)
			if _, err := svc.PostUpdate(ctx, demoSupport, inc.ID, incidents.NewUpdate{Status: gateway.Resolved, Body: p.resolution}); err != nil {
				return nil, fmt.Errorf("demo history: %w", err)
			}
		}
		at = now
		start := now.Add(72 * time.Hour).Truncate(24 * time.Hour).Add(2 * time.Hour)
		if _, err := svc.Schedule(ctx, demoSupport, incidents.NewMaintenance{Name: "Database maintenance",
			Body:       "We will upgrade the database behind the Space and Reservation modules. Both stay available but may be slow for a few minutes.",
			Components: []string{"Space Module", "Reservation Module"}, ScheduledFor: start, ScheduledUntil: start.Add(2 * time.Hour), AutoTransition: true}); err != nil {
			return nil, fmt.Errorf("demo maintenance: %w", err)
		}
	}
	// The past's events are planned before anyone subscribes: nobody
	// gets mail about the history.
	if _, _, err := st.PlanPending(ctx, 1000); err != nil {
		return nil, err
	}
	subs, err := newSubscribers(ctx, st, cfg, log, wake)
	if err != nil {
		return nil, err
	}
	actor := gateway.Principal{Kind: "config", Name: "herald demo", Role: gateway.RoleAdmin}
	for _, r := range []subscribers.SubscribeRequest{
		{Email: "facilities@example.com", All: true},
		{Email: "office.manager@example.com", Groups: []string{"Eptura Workplace Modules"}},
		{Email: "mobile.team@example.com", Components: []string{"Hummingbird App"}},
	} {
		r.Confirmed, r.ConsentSource, r.Actor = true, "herald demo", actor
		if _, err := subs.Subscribe(ctx, r); err != nil {
			return nil, fmt.Errorf("demo subscriber %s: %w", r.Email, err)
		}
	}
	return subs, nil
}

// replayer plays the seed's outage against the running demo: alerts
// through the ingest endpoint, support's words through the incidents
// service, each at its second of the script.
type replayer struct {
	a      *app
	st     *store.Store
	svc    *incidents.Service
	step   time.Duration
	token  string
	ingest string
	client *http.Client
	dns    *loopdns.Server // the resolver the DNS probe asks
	probe  config.Probe
	id     string // the incident, once the alerts opened it
}

// demoScript is the replay: at which second what happens. The words are
// the seed's (Eptura Workplace, 2021-09-16), its five hours compressed
// into two minutes. DNS fails first, but the modules' alerts are what
// arrives first, as in the seed; the DNS probe, which must fail
// demoProbeFailures times in a row, names the cause a little later. The
// probe's steps wait for what the probe does (it runs on its own clock,
// at least a second apart), so a fast replay stretches there and catches
// up after.
var demoScript = []struct {
	at   int
	note string
	do   func(r *replayer, ctx context.Context) error
}{
	{3, "DNS: the sites' resolver starts failing (SERVFAIL)", func(r *replayer, _ context.Context) error {
		r.dns.Set(loopdns.ServFail)
		return nil
	}},
	{3, "monitoring: the modules stop answering, one after another", func(r *replayer, ctx context.Context) error {
		for i, mod := range demoModules {
			if err := r.alert(ctx, gateway.AlertFiring, map[string]string{"module": mod.label}, mod.name); err != nil {
				return err
			}
			if i == 4 {
				if err := r.alert(ctx, gateway.AlertFiring, map[string]string{"app": "hummingbird"}, "Hummingbird App"); err != nil {
					return err
				}
			}
			if err := r.sleep(ctx, 2); err != nil {
				return err
			}
		}
		return nil
	}},
	{24, "probe: DNS failed " + strconv.Itoa(demoProbeFailures) + " times in a row; its alert joins the incident on DNS", func(r *replayer, ctx context.Context) error {
		return r.waitProbe(ctx, gateway.AlertFiring)
	}},
	{28, "support takes over: Investigating", func(r *replayer, ctx context.Context) error {
		if err := r.findIncident(ctx); err != nil {
			return err
		}
		name := "iOFFICE is currently investigating an issue with customers site access."
		if _, err := r.svc.Edit(ctx, demoSupport, r.id, &name, nil); err != nil {
			return err
		}
		return r.post(ctx, gateway.Investigating, "iOFFICE is currently investigating an issue with customers site access.")
	}},
	{40, "Identified", say(gateway.Identified, "Our incident response team has identified the issue and is working hard to bring services back online. Our next update will be at 10:50am CST or as new information comes available.")},
	{50, "Update", say(gateway.Identified, "We are continuing to work on a fix for this issue. Next update will be at 11:50am CST or as information become available.")},
	{58, "Update", say(gateway.Identified, "Our Engineering team is still working to get services back to a functioning state. The issue is identified and we're working diligently for the next update at 12:50 PM CST")},
	{66, "Update", say(gateway.Identified, "As our engineering teams continue to diligently work to restore services, we thank you for your patience. We will continue to update our customers. Restoring service is our highest priority. Next update will be at 1:50pm CST or as information become available.")},
	{74, "Update", say(gateway.Identified, "Our engineering team has identified the issue causing interrupted platform access and is committed to implementing a resolution quickly. Restoring your service is our top priority and we will continue to provide additional information related to this situation. Next update will be at 2:50pm CST or as information become available.")},
	{81, "DNS: the sites' resolver answers again", func(r *replayer, _ context.Context) error {
		r.dns.Set(loopdns.Right)
		return nil
	}},
	{82, "monitoring: the modules answer again", func(r *replayer, ctx context.Context) error {
		for _, mod := range demoModules {
			if err := r.alert(ctx, gateway.AlertResolved, map[string]string{"module": mod.label}, mod.name); err != nil {
				return err
			}
		}
		return nil
	}},
	{85, "Monitoring", say(gateway.Monitoring, "We are happy to report that Desktop systems have returned to a stable state and customers should experience a return to regular functionality. We are continuing to investigate a subsequent issue with the Hummingbird app and logins. We appreciate your patience as our team worked to identify a resolution. As per our standard procedure we will continue to monitor operations, and will conduct a Root Cause Analysis and distribute the findings.")},
	{90, "probe: DNS answers again; its alert resolves", func(r *replayer, ctx context.Context) error {
		return r.waitProbe(ctx, gateway.AlertResolved)
	}},
	{95, "monitoring: the Hummingbird App answers again", func(r *replayer, ctx context.Context) error {
		return r.alert(ctx, gateway.AlertResolved, map[string]string{"app": "hummingbird"}, "Hummingbird App")
	}},
	{98, "Update", say(gateway.Monitoring, "As we continue to monitor system stability, we are able to report that the Hummingbird App is back and operational. Please do not hesitate to reach out to Customer Support if you are still experiencing any issues.")},
	{108, "Resolved", say(gateway.Resolved, "All systems have returned to a stable state and customers should experience a return to regular functionality. We appreciate your patience as our team worked to identify a resolution. Reminder, As per our standard procedure we will continue to monitor operations, and will conduct a Root Cause Analysis and distribute the findings.")},
	{118, "Postmortem", func(r *replayer, ctx context.Context) error {
		_, err := r.svc.Postmortem(ctx, demoSupport, r.id, demoPostmortem, true)
		return err
	}},
}

const demoPostmortem = `**Root cause:** iOFFICE investigation has pointed to a degradation caused by server node(s) not resolving correctly to DNS.

**Remediation:** iOFFICE received system alerts notifying both the Customer Support and Engineering teams of nodes becoming unstable. Once identified, they began restart sequences to bring services back online. These restarts initially failed due to a service becoming out of sequence, which required a production change of DNS configurations before the engineering team could restart the services successfully.

**Timeline (CST):**

- 8:15am — system alerts begin; Engineering starts investigating as Customer Support receives reports of site outages.
- 8:49am — a full restart brings back some services, not all.
- 8:50am — all sites confirmed affected; Severity 1 declared.
- 9:25am, 9:37am — nodes restarted to pick up new DNS configurations; the restarts fail.
- 12:28pm — the cache did not match on all servers; cleared.
- 1:50pm — configuration changes tested and deployed.
- 2:10pm — monitoring begins. 4:06pm — all clear.

**Preventive action:** the prolonged downtime was preceded by a lack of restart sequence documentation and of the configuration changes needed to bring systems back online. Engineering is reviewing and enhancing the system restart documentation, and adding monitoring and alerting.`

// say is a script step that posts support's update.
func say(status gateway.IncidentStatus, body string) func(*replayer, context.Context) error {
	return func(r *replayer, ctx context.Context) error { return r.post(ctx, status, body) }
}

// run plays the script, each step at its second.
func (r *replayer) run(ctx context.Context) error {
	start := time.Now()
	for _, s := range demoScript {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(start.Add(time.Duration(s.at) * r.step))):
		}
		fmt.Fprintf(r.a.stdout, "Herald demo: %3ds %s\n", s.at, s.note)
		if err := s.do(r, ctx); err != nil {
			return fmt.Errorf("%s: %w", s.note, err)
		}
	}
	return nil
}

func (r *replayer) sleep(ctx context.Context, steps int) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(steps) * r.step):
		return nil
	}
}

// alert POSTs one alert to the ingest endpoint as Alertmanager would.
func (r *replayer) alert(ctx context.Context, status gateway.AlertStatus, labels map[string]string, component string) error {
	labels["alertname"], labels["severity"] = "SiteUnreachable", "critical"
	a := map[string]any{"status": status, "labels": labels, "startsAt": time.Now().UTC().Format(time.RFC3339),
		"annotations": map[string]string{"summary": component + " does not answer: its nodes fail to resolve DNS"}}
	if status == gateway.AlertResolved {
		a["endsAt"] = time.Now().UTC().Format(time.RFC3339)
	}
	body, err := json.Marshal(map[string]any{"version": "4", "status": status, "receiver": "herald", "alerts": []any{a}})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.ingest, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.token)
	res, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
		return fmt.Errorf("ingest answered %s: %s", res.Status, msg)
	}
	return nil
}

// waitProbe waits until the DNS probe's alert has status, and when firing
// until it has joined an incident. The wait is bounded: a probe that does
// not fire in a few of its intervals is the demo's bug, said as an error.
func (r *replayer) waitProbe(ctx context.Context, status gateway.AlertStatus) error {
	p := r.probe.Probe()
	within := time.Duration(p.Failures+2)*p.Interval + 20*r.step + 10*time.Second
	deadline := time.Now().Add(within)
	for {
		got, err := r.st.Alerts(ctx, store.AlertFilter{Fingerprint: "probe:" + p.Name, Limit: 1})
		if err != nil {
			return err
		}
		if len(got) > 0 && got[0].Status == status && (status != gateway.AlertFiring || got[0].IncidentID != "") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the DNS probe's alert is not %s within %v (%d questions to the DNS server)", status, within, r.dns.Queries())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// findIncident waits for the incident the alerts opened.
func (r *replayer) findIncident(ctx context.Context) error {
	for r.id == "" {
		open, err := r.st.Incidents(ctx, store.IncidentFilter{Status: "open", Limit: 1})
		if err != nil {
			return err
		}
		if len(open) > 0 {
			r.id = open[0].ID
			break
		}
		if err := r.sleep(ctx, 1); err != nil {
			return err
		}
	}
	return nil
}

func (r *replayer) post(ctx context.Context, status gateway.IncidentStatus, body string) error {
	if err := r.findIncident(ctx); err != nil {
		return err
	}
	_, err := r.svc.PostUpdate(ctx, demoSupport, r.id, incidents.NewUpdate{Status: status, Body: body, Notify: true})
	return err
}
