package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/catalog"
	"github.com/heraldstatus/herald/gateway/config"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/ingest"
	"github.com/heraldstatus/herald/gateway/metrics"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/probes"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/internal/gctune"
)

func (a *app) serveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve the status page, the ingest endpoints and the admin API (the default)",
		Long: `Serve listens on HERALD_ADDR (default :8080) at once, then connects to the
database (HERALD_DATABASE_URL, default sqlite:herald.db), applies migrations,
syncs what the config file declares and starts working. While the database
cannot be reached it keeps retrying with backoff: /healthz answers 200 and
/readyz 503 with the reason. SIGINT or SIGTERM stops it gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.serve(cmd.Context()) },
	}
}

func (a *app) serve(ctx context.Context) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	log := a.logger(cfg)
	m := metrics.New()
	// The channels first: broken templates or mail settings stop start-up.
	chans, previews, closeChans, err := channelsOf(cfg, log)
	if err != nil {
		return err
	}
	defer closeChans()
	var disp atomic.Pointer[notify.Dispatcher] // set once the store is ready
	wakeDispatcher := func() {
		if d := disp.Load(); d != nil {
			d.Wake()
		}
	}
	srv := herhttp.New(herhttp.Options{Log: log, Metrics: m, Version: version, Page: pageInfo(cfg), PublicURL: cfg.PublicURL, Wake: wakeDispatcher, APIBodyLimit: int64(cfg.Limits.IngestBody),
		IngestBodyLimit: int64(cfg.Limits.IngestBody), PublicBodyLimit: int64(cfg.Limits.PublicBody), Previews: previews})
	hs := srv.HTTPServer(cfg.Addr)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	log.Info("herald listening", "addr", ln.Addr().String(), "version", version, "public_url", cfg.PublicURL)
	if a.ready != nil {
		a.ready(ln.Addr().String())
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	storeErr := make(chan error, 1)
	storeDone := make(chan struct{}) // closed once nothing uses the store any more
	var opened *store.Store          // set before storeDone is closed
	go func() {
		defer close(storeDone)
		s, err := a.connect(ctx, cfg, log, m, srv)
		if err != nil {
			storeErr <- err
			return
		}
		opened = s

		// The services the handlers use, made once and published together:
		// until then every route that needs them answers 503.
		// Subscribers come before the dispatcher, whose messages carry their
		// links and whose webhooks need their secrets opened.
		subs, err := newSubscribers(ctx, s, cfg, log, wakeDispatcher)
		if err != nil {
			storeErr <- err
			return
		}
		support, err := supportSubscriber(ctx, subs, cfg)
		if err != nil {
			storeErr <- err
			return
		}
		// Incidents: correlation and timers, until shutdown.
		inc := newIncidents(cfg, s, log, m, wakeDispatcher, support)
		srv.Publish(herhttp.Services{Store: s, Incidents: inc, Subscribers: subs,
			Ingest: ingest.New(s, ingest.Options{Log: log.With("component", "ingest"), Metrics: m,
				FlapWindow: time.Duration(cfg.Correlation.Flap.Window), ResolveTimeout: time.Duration(cfg.Correlation.ResolveTimeout),
				Fields: ingest.FieldLimits{Labels: cfg.Limits.AlertLabels, NameBytes: int(cfg.Limits.LabelNameBytes),
					ValueBytes: int(cfg.Limits.LabelValueBytes), SummaryBytes: int(cfg.Limits.SummaryBytes)}})})
		m.StoreReady.Set(1)
		log.Info("herald ready", "database", s.Dialect())
		incDone := make(chan struct{})
		go func() { defer close(incDone); _ = inc.Run(ctx) }()
		// Probes: their alerts go through an ingest service of their own
		// (the same pipeline, with its own rule cache and commit queue).
		probeDone := make(chan struct{})
		pr := probes.New(probes.Options{Store: s, Log: log.With("component", "probes"), Metrics: m,
			Ingest: ingest.New(s, ingest.Options{Log: log.With("component", "probes"), Metrics: m,
				FlapWindow: time.Duration(cfg.Correlation.Flap.Window)})})
		go func() { defer close(probeDone); _ = pr.Run(ctx) }()
		// Deliveries: runs until shutdown, then finishes the sends in flight.
		d := withDelivery(newDispatcher(s, chans, subs.Links, log, m), cfg.Delivery)
		disp.Store(d)
		// Start-up is over: its garbage must not set the collector's
		// goal for the first burst of work (see gctune.Settle).
		gctune.Settle()
		if err := d.Run(ctx); err != nil {
			storeErr <- fmt.Errorf("dispatcher: %w", err)
		}
		<-incDone
		<-probeDone
	}()

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-serveErr:
		runErr = fmt.Errorf("http server: %w", err)
	case err := <-storeErr:
		runErr = err
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("graceful shutdown", "err", err)
	}
	<-storeDone // the dispatcher has finished and recorded its sends
	if opened != nil {
		opened.Close()
	}
	return runErr
}

// connect opens, migrates and prepares the store and syncs the config into
// it. While the database cannot be reached it retries with capped,
// jittered backoff and says why, so Herald can start before its database
// (start-up never depends on order). A database that answers but fails a
// step (a broken migration, a config naming an unknown component) is a
// fatal error: retrying would not fix it.
func (a *app) connect(ctx context.Context, cfg *config.Config, log *slog.Logger, m *metrics.Metrics, srv *herhttp.Server) (*store.Store, error) {
	backoff := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		st, err := openStore(ctx, cfg, log)
		if err == nil {
			m.StoreConnectAttempts.WithLabelValues("ok").Inc()
			return st, nil
		}
		m.StoreConnectAttempts.WithLabelValues("error").Inc()
		var fatal fatalError
		if errors.As(err, &fatal) {
			return nil, fatal.err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		srv.SetNotReady(err.Error())
		log.Warn("database not ready, retrying", "err", err, "attempt", attempt, "retry_in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

type fatalError struct{ err error }

func (f fatalError) Error() string { return f.err.Error() }

// openStore runs the start-up steps once. Failures while the database
// does not answer are retryable; the others are wrapped in fatalError.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return nil, err
	}
	step := func(err error) error {
		if err == nil {
			return nil
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if perr := st.Ping(pctx); perr != nil {
			return err // the database went away: retry
		}
		return fatalError{err}
	}
	if n, err := st.Migrate(ctx); step(err) != nil {
		st.Close()
		return nil, step(err)
	} else if n > 0 {
		log.Info("applied migrations", "count", n)
	}
	if err := step(st.Prepare(ctx)); err != nil {
		st.Close()
		return nil, err
	}
	// Through the catalog: the file's objects pass the rules the API's and
	// the console's do.
	rep, err := catalog.New(st).SyncConfig(ctx, declaration(cfg))
	if err := step(err); err != nil {
		st.Close()
		return nil, fmt.Errorf("sync config: %w", err)
	}
	if rep.Created+rep.Updated+rep.Deleted > 0 {
		log.Info("synced config into the database", "created", rep.Created, "updated", rep.Updated, "deleted", rep.Deleted)
	}
	for _, o := range rep.Orphans {
		log.Warn("no longer in the config file; kept, delete it through the API if it is gone", "object", o)
	}
	if err := step(bootstrapKey(ctx, st, cfg, log)); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// bootstrapKeyName names the key HERALD_ADMIN_TOKEN holds.
const bootstrapKeyName = "admin (HERALD_ADMIN_TOKEN)"

// bootstrapKey gives a new installation its first admin key: the one in
// HERALD_ADMIN_TOKEN, or else, on a database with no keys at all, a fresh
// one printed once in the log. Replicas racing on an empty PostgreSQL
// cannot both create one: key names are unique. A changed
// HERALD_ADMIN_TOKEN rotates the key: the old one is revoked. One that
// was revoked stays revoked, with a warning, and Herald starts without it.
func bootstrapKey(ctx context.Context, st *store.Store, cfg *config.Config, log *slog.Logger) error {
	if cfg.AdminToken != "" {
		rotated, err := st.EnsureAPIKey(ctx, bootstrapKeyName, gateway.RoleAdmin, cfg.AdminToken)
		if gateway.ErrorCode(err) == gateway.ECONFLICT {
			log.Error("HERALD_ADMIN_TOKEN holds a key that was revoked or has expired; it stays unusable: set a new one", "prefix", gateway.SecretPrefix(cfg.AdminToken))
			return nil
		}
		if err != nil {
			return err
		}
		if rotated {
			log.Warn("HERALD_ADMIN_TOKEN changed: the key it held before is revoked", "key", bootstrapKeyName)
			if err := st.Audit(ctx, gateway.Principal{Kind: "config", Name: "config"}, "api_key.rotate", "api_key", "",
				map[string]any{"name": bootstrapKeyName}); err != nil {
				return err
			}
		}
		return nil
	}
	n, err := st.CountAPIKeys(ctx)
	if err != nil || n > 0 {
		return err
	}
	_, secret, err := st.CreateAPIKey(ctx, "admin", gateway.RoleAdmin, "bootstrap")
	if gateway.ErrorCode(err) == gateway.ECONFLICT {
		// Another replica made it, or an expired key still holds the name.
		if n, cerr := st.CountAPIKeys(ctx); cerr == nil && n == 0 {
			log.Error("no API key works (all revoked or expired) and the name admin is taken: run `herald apikey revoke admin` and start again, or set HERALD_ADMIN_TOKEN")
		}
		return nil
	}
	if err != nil {
		return err
	}
	log.Warn("created the first admin API key; it is shown only this once, store it now", "api_key", secret)
	return nil
}

// declaration converts the config file's objects into the store's terms.
func declaration(cfg *config.Config) store.Declaration {
	var d store.Declaration
	for _, g := range cfg.GroupDecls() {
		d.Groups = append(d.Groups, store.DeclaredGroup{Name: g.Name, Description: g.Description, Position: g.Position})
	}
	for _, c := range cfg.ComponentDecls() {
		d.Components = append(d.Components, store.DeclaredComponent{Name: c.Name, Description: c.Description, Group: c.Group,
			Position: c.Position, DependsOn: c.DependsOn})
	}
	for _, s := range cfg.Sources {
		d.Sources = append(d.Sources, store.DeclaredSource{Name: s.Name, Kind: s.Kind, Token: s.Token, RateLimit: s.RateLimit})
	}
	for _, r := range cfg.Rules {
		d.Rules = append(d.Rules, store.DeclaredRule{Name: r.Name, Matchers: r.Matchers, Components: r.Components, SeverityStatus: r.SeverityStatus})
	}
	for i, p := range cfg.Probes {
		d.Probes = append(d.Probes, store.DeclaredProbe{Probe: p.Probe(), Component: p.Component, Path: fmt.Sprintf("probes[%d]", i)})
	}
	return d
}
