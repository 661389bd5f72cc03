// Package http is Herald's HTTP transport: the Echo server, its middleware
// (request IDs, access logs, metrics, body limits, authentication), the
// mapping of domain errors onto statuses in one place, and thin handlers
// that bind, validate, call the store or a service, and render.
package http

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/catalog"
	"github.com/heraldstatus/herald/gateway/http/bodylimit"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/ingest"
	"github.com/heraldstatus/herald/gateway/metrics"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/subscribers"
)

// Options configure a Server.
type Options struct {
	Log     *slog.Logger
	Metrics *metrics.Metrics
	// APIBodyLimit bounds admin API request bodies, in bytes.
	APIBodyLimit int64
	// Version is reported by /healthz.
	Version string
	// PublicURL is HERALD_PUBLIC_URL: the base of the URLs the console shows
	// (a source's ingest URL) and, when https, what makes its cookies Secure.
	PublicURL string
	// Page names the status page in the messages the API sends (broadcasts).
	Page gateway.PageInfo
	// Wake, when set, tells the dispatcher that deliveries were planned or
	// queued again, so they go out now rather than at its next poll.
	Wake func()
	// IngestBodyLimit bounds ingest request bodies (limits.ingest_body), in
	// bytes; default 10 MiB.
	IngestBodyLimit int64
	// PublicBodyLimit bounds the bodies of the public subscribe, manage
	// and unsubscribe forms (limits.public_body), in bytes; default 64 KiB.
	PublicBodyLimit int64
	// Previews renders template previews and broadcast dry runs; without
	// templates, previews answer 503 and dry runs carry none.
	Previews Previews
	// AuthFailures is how many failed authentications (401s) one client
	// address may have in a row on the admin API, on one ingest source or
	// on /v2/enqueue before it is answered 429; one more is allowed every
	// AuthFailuresEvery. Defaults 20 and 5 s.
	AuthFailures      int
	AuthFailuresEvery time.Duration
	// Timeouts of the net/http server HTTPServer returns; zero values take
	// the defaults (see HTTPServer). Tests make them short.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's header; default 64 KiB.
	MaxHeaderBytes int
}

// Services are what Herald's handlers work with once its database is
// ready. They are made once, when the store is ready, and published whole
// (see Publish): a handler holds one set for its whole life and never asks
// for them again, and no request sees some of them and not others.
type Services struct {
	Store *store.Store
	// Incidents and Subscribers, when nil, make their routes answer 503
	// (tests publish a store alone).
	Incidents   *incidents.Service
	Subscribers *subscribers.Service
	// Ingest serves the ingest endpoints; nil makes one with default
	// options for Store.
	Ingest *ingest.Service
	// Catalog changes components, groups, sources and rules; nil makes
	// one over Store.
	Catalog *catalog.Service
}

// Server serves Herald's HTTP surface. It starts before the database is
// reachable: until Publish is called, /healthz answers 200, /readyz 503,
// and every route that needs the store answers 503 with Retry-After
// (see starting).
//
// The handlers are methods on Server, and each router is built for one
// Server value that holds one set of Services: the Server New returns
// holds none and serves the starting router; Publish builds the ready
// router on a Server holding the services, and swaps it in.
type Server struct {
	*process
	// svc is what this router's handlers use; nil on the starting one.
	svc *Services
}

// process is what lives as long as Herald does, whichever router serves:
// the options, the limiters that must not start over when the services
// arrive, and the router in use.
type process struct {
	opt    Options
	log    *slog.Logger
	why    atomic.Value // string: why the store is not ready yet
	touch  keyToucher
	fails  failureLimiter
	budget *ingestBudget
	// started is when the server was built: the uptime Alertmanager's
	// status document reports.
	started time.Time
	// router is the starting router, then the ready one (see Publish).
	router atomic.Pointer[echo.Echo]
}

// New builds the server and its starting router.
func New(opt Options) *Server {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Metrics == nil {
		opt.Metrics = metrics.New()
	}
	if opt.APIBodyLimit <= 0 {
		opt.APIBodyLimit = 10 << 20
	}
	p := &process{opt: opt, log: opt.Log, started: time.Now().UTC()}
	p.fails = newFailureLimiter(cmp.Or(opt.AuthFailures, 20), cmp.Or(opt.AuthFailuresEvery, 5*time.Second))
	p.why.Store("starting")
	s := &Server{process: p}
	p.budget = newIngestBudget(s.ingestBodyLimit())
	p.router.Store(s.startingRouter())
	return s
}

// Publish hands the server the services made once the store is ready: it
// builds the ready router on them and swaps it in, in one atomic step.
// Services without a store put the starting router back.
func (s *Server) Publish(svc Services) {
	if svc.Store == nil {
		s.router.Store(s.startingRouter())
		return
	}
	if svc.Ingest == nil {
		svc.Ingest = ingest.New(svc.Store, ingest.Options{Log: s.log, Metrics: s.opt.Metrics})
	}
	if svc.Catalog == nil {
		svc.Catalog = catalog.New(svc.Store)
	}
	ready := &Server{process: s.process, svc: &svc}
	s.router.Store(ready.readyRouter())
}

// newRouter is an Echo with what every answer goes through (request IDs,
// access log, recovery, metrics, the error shape) and the routes that do
// not need the store: health, readiness, metrics and the API description.
func (s *Server) newRouter() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	// Client IPs (per-IP rate limits, logs) come from the connection, never
	// from X-Forwarded-For, which any client can forge. Behind a proxy, set
	// the trusted-proxy extractor here instead.
	e.IPExtractor = echo.ExtractIPDirect()
	e.Validator = newValidator()
	e.Use(middleware.RequestID())
	e.Use(noSniff)
	e.Use(s.accessLog())
	e.Use(s.recoverer()) // inside the access log, so a panic's 500 is logged too
	e.Use(s.observe())
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.opt.Metrics.Registry, promhttp.HandlerOpts{})))
	s.openAPIRoutes(e)
	return e
}

// startingRouter serves while the store is not ready: the public pages
// and the console answer their own 503 pages (they are built without
// services), and everything else is the starting handler.
func (s *Server) startingRouter() *echo.Echo {
	e := s.newRouter()
	s.webRoutes(e)
	s.consoleRoutes(e)
	e.Any("/*", s.starting)
	return e
}

// starting answers 503 with Retry-After in the API's error shape.
func (s *Server) starting(echo.Context) error {
	return gateway.Errorf(gateway.EUNAVAILABLE, "Herald is starting and its database is not ready yet.")
}

// readyRouter registers every route. Each feature registers its own in
// its own file; the admin API group carries the body limit and
// authentication, and each route states the role it needs.
func (s *Server) readyRouter() *echo.Echo {
	e := s.newRouter()
	api := e.Group("/api/v1", s.limitAuthFailures("api"), bodylimit.Middleware(s.opt.APIBodyLimit), s.authenticate)
	s.componentRoutes(api)
	s.probeRoutes(api)
	s.incidentRoutes(api)
	s.broadcastRoutes(api)
	s.templateRoutes(api)
	s.deliveryRoutes(api)
	s.subscriberRoutes(api)
	s.apiKeyRoutes(api)
	s.ingestRoutes(e, api)
	s.webRoutes(e)
	s.consoleRoutes(e)
	api.GET("/audit", s.listAudit, requireRole(gateway.RoleAdmin))
	return e
}

// Handler returns the server as an http.Handler (for tests and
// embedding): whichever router is published serves each request.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.router.Load().ServeHTTP(w, r) })
}

// Routes lists the routes of the router in use (a test checks them
// against openapi.json).
func (s *Server) Routes() []*echo.Route { return s.router.Load().Routes() }

// SetNotReady records why the store is not available yet, for /readyz.
func (s *Server) SetNotReady(why string) { s.why.Store(why) }

// HTTPServer returns a net/http server for the handler with the timeouts
// that keep slow or stuck clients (slowloris) from holding connections:
// headers within 10 s, a whole request within a minute, an idle
// keep-alive connection for two, a header of at most 64 KiB (431 past
// it). Options can set each.
func (s *Server) HTTPServer(addr string) *http.Server {
	o := s.opt
	return &http.Server{
		Addr:              addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: cmp.Or(o.ReadHeaderTimeout, 10*time.Second),
		ReadTimeout:       cmp.Or(o.ReadTimeout, 60*time.Second),
		WriteTimeout:      cmp.Or(o.WriteTimeout, 60*time.Second),
		IdleTimeout:       cmp.Or(o.IdleTimeout, 120*time.Second),
		MaxHeaderBytes:    cmp.Or(o.MaxHeaderBytes, 64<<10),
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "version": s.opt.Version})
}

// readyz answers 200 when the database answers and is migrated, else 503
// saying why. It checks on every call, so it follows a database that goes
// away and comes back.
func (s *Server) readyz(c echo.Context) error {
	if s.svc == nil {
		s.opt.Metrics.StoreReady.Set(0)
		c.Response().Header().Set("Retry-After", "5")
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": s.why.Load().(string)})
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	st := s.svc.Store
	if err := st.Ready(ctx); err != nil {
		s.opt.Metrics.StoreReady.Set(0)
		c.Response().Header().Set("Retry-After", "5")
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
	}
	s.opt.Metrics.StoreReady.Set(1)
	return c.JSON(http.StatusOK, map[string]string{"status": "ready", "database": string(st.Dialect())})
}

var errPanic = errors.New("panic")
