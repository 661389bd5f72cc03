// Package console is Herald's support console at /console: the pages
// support staff sign in to and run incidents, broadcasts, maintenance,
// subscribers, components and sources from.
//
// Everything is rendered on the server with html/template from templates
// embedded in the package and works without JavaScript. Every action calls
// the same service (incidents, subscribers) or store method as the admin
// API does, with the signed-in person as the gateway.Principal, so the
// console and the API cannot diverge and the audit log names the person.
//
// Adding a screen (README.md "Support console" says more):
//
//  1. write <screen>.go with a method `func (h *Handler) <screen>Routes(r Router)`
//     that registers its routes with r.GET / r.POST, each naming the role
//     it needs;
//  2. add that method to the screens list in this file (one line);
//  3. write templates/<screen>.html (and templates/<screen>-*.html for more
//     pages), each defining "content"; render them with h.render.
//
// Templates are found by globbing, so no list of them needs editing.
package console

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/catalog"
	"github.com/heraldstatus/herald/gateway/http/bodylimit"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/metrics"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/ratelimit"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/subscribers"
	"github.com/heraldstatus/herald/templates"
)

// Prefix is where the console lives.
const Prefix = "/console"

// screens registers every screen's routes; one line per screen, each in
// its own file. Screens not written yet appear only as links in nav.
var screens = []func(h *Handler, r Router){
	(*Handler).dashboardRoutes,
	(*Handler).incidentsRoutes,
	(*Handler).subscribersRoutes,
	(*Handler).componentsRoutes,
	(*Handler).sourcesRoutes,
	(*Handler).apikeysRoutes,
	(*Handler).probesRoutes,
	(*Handler).auditRoutes,
	(*Handler).broadcastRoutes,
	(*Handler).maintenanceRoutes,
}

// nav is the console's navigation, in order. A link whose screen is not
// written yet answers the console's 404 page.
var nav = []navItem{
	{"Dashboard", Prefix},
	{"Incidents", Prefix + "/incidents"},
	{"Broadcasts", Prefix + "/broadcasts"},
	{"Maintenance", Prefix + "/maintenances"},
	{"Subscribers", Prefix + "/subscribers"},
	{"Components", Prefix + "/components"},
	{"Sources", Prefix + "/sources"},
	{"API keys", Prefix + "/apikeys"},
	{"Probes", Prefix + "/probes"},
	{"Audit", Prefix + "/audit"},
}

type navItem struct{ Label, Path string }

// Options configure the console. Without a service (while Herald is
// starting, before its store is ready) the pages that need it answer 503
// with Retry-After.
type Options struct {
	Store       *store.Store
	Incidents   *incidents.Service
	Subscribers *subscribers.Service
	// Catalog changes components, groups and sources: the service the
	// API uses; nil makes one over Store.
	Catalog *catalog.Service
	// Templates and WebhookBody render previews and broadcast dry runs,
	// as the API's Previews do; nil: previews are unavailable.
	Templates   *templates.Set
	WebhookBody func(m *notify.Message, now time.Time) ([]byte, error)
	// Wake tells the dispatcher that deliveries were planned (may be nil).
	Wake func()
	// Metrics counts what the console plans, as the API's planner does
	// (may be nil).
	Metrics *metrics.Metrics
	// Page names the status page; its URL (or PublicURL) decides whether
	// cookies are Secure.
	Page gateway.PageInfo
	// PublicURL is HERALD_PUBLIC_URL; an https URL makes cookies Secure
	// even behind a TLS-terminating proxy.
	PublicURL string
	// Now is the clock of session expiry and rate limits (tests inject one).
	Now func() time.Time
	Log *slog.Logger
	// IdleTimeout ends a session unused this long (default 12 h); MaxAge
	// ends any session this long after sign-in (default 7 days).
	IdleTimeout, MaxAge time.Duration
	// LoginPerIP bounds sign-in attempts per client network (an IPv4
	// address, an IPv6 /64; default: bursts of 20, one more every 3 s).
	// LoginPerAccount bounds failed attempts per account from one client
	// network, with a delay that doubles past the burst (default: 10,
	// one more every 30 s).
	LoginPerIP, LoginPerAccount Limit
	// SignIn, when set, counts sign-in attempts by outcome: "ok",
	// "failed", "limited" (a metric).
	SignIn func(outcome string)
}

// Handler serves the console.
type Handler struct {
	opt       Options
	log       *slog.Logger
	pages     *pageSet
	csrf      echo.MiddlewareFunc
	byIP      *ratelimit.Keyed
	byAccount *ratelimit.Keyed
	// flashMu guards flashSecret, the key of flash cookies once loaded.
	flashMu     sync.Mutex
	flashSecret []byte
	// imports are the subscriber imports this console started.
	imports importJobs
}

// Register adds the console's routes to e under /console and returns its
// handler.
func Register(e *echo.Echo, opt Options) *Handler {
	h := newHandler(opt)
	g := e.Group(Prefix)
	g.GET("/static/:name", h.asset)
	g.GET("/login", h.page(h.csrf(h.loginForm)))
	g.POST("/login", h.page(h.limitBody(h.csrf(h.loginPost))))
	r := Router{h: h, g: g}
	r.POST("/logout", gateway.RoleViewer, h.logout)
	for _, screen := range screens {
		screen(h, r)
	}
	// Anything else under /console is the console's own 404 page, for
	// people who are signed in (the others go to the sign-in page).
	g.Any("/*", h.page(h.signedIn(func(echo.Context) error { return gateway.Errorf(gateway.ENOTFOUND, "There is no such page.") })))
	return h
}

func newHandler(opt Options) *Handler {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.SignIn == nil {
		opt.SignIn = func(string) {}
	}
	if opt.IdleTimeout <= 0 {
		opt.IdleTimeout = 12 * time.Hour
	}
	if opt.MaxAge <= 0 {
		opt.MaxAge = 7 * 24 * time.Hour
	}
	if opt.LoginPerIP.Burst <= 0 {
		opt.LoginPerIP = Limit{Burst: 20, Every: 3 * time.Second}
	}
	if opt.LoginPerAccount.Burst <= 0 {
		opt.LoginPerAccount = Limit{Burst: 10, Every: 30 * time.Second}
	}
	h := &Handler{opt: opt, log: opt.Log, pages: mustParseTemplates(),
		byIP: ratelimit.New(opt.LoginPerIP, 0), byAccount: ratelimit.New(opt.LoginPerAccount, 0)}
	h.csrf = h.newCSRF()
	return h
}

// Router registers a screen's routes. Every route names the least role it
// needs; the router adds what every console page has: the error page, the
// signed-in session, the CSRF check on POST and the body limit.
type Router struct {
	h *Handler
	g *echo.Group
}

// GET registers a page that need (or a stronger role) may see.
func (r Router) GET(path string, need gateway.Role, fn echo.HandlerFunc) {
	r.g.GET(path, r.h.page(r.h.signedIn(r.h.csrf(r.h.requireRole(need, fn)))))
}

// POST registers an action that need (or a stronger role) may take. The
// form must carry the CSRF token: {{template "csrf" $}} in the template.
func (r Router) POST(path string, need gateway.Role, fn echo.HandlerFunc) {
	r.g.POST(path, r.h.page(r.h.limitBody(r.h.signedIn(r.h.csrf(r.h.requireRole(need, fn))))))
}

// withCatalog serves fn with the catalog service and a context bounded as
// ctx does.
func (h *Handler) withCatalog(fn func(c echo.Context, ctx context.Context, svc *catalog.Service) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		svc := h.opt.Catalog
		cx, cancel := ctx(c)
		defer cancel()
		return fn(c, cx, svc)
	}
}

// wake tells the dispatcher to look for deliveries now.
func (h *Handler) wake() {
	if h.opt.Wake != nil {
		h.opt.Wake()
	}
}

// unavailable is every page's answer while Herald starts (see page): the
// console is registered before the database is ready, without services,
// and once with them when it is; its handlers use the services directly.
func unavailable() error {
	return gateway.Errorf(gateway.EUNAVAILABLE, "Herald is starting and its database is not ready yet; try again in a few seconds.")
}

// now is the console's clock in UTC.
func (h *Handler) now() time.Time { return h.opt.Now().UTC() }

// secure reports whether cookies must be Secure: an https public URL, or
// a request that arrived over TLS.
func (h *Handler) secure(c echo.Context) bool { return h.httpsURL() || c.Request().TLS != nil }

// httpsURL reports whether Herald is published over https (behind a
// TLS-terminating proxy the request itself is plain HTTP).
func (h *Handler) httpsURL() bool {
	for _, u := range []string{h.opt.PublicURL, h.opt.Page.URL} {
		if strings.HasPrefix(strings.ToLower(u), "https://") {
			return true
		}
	}
	return false
}

// audit records an action by the signed-in person. A failure to record is
// logged, not returned: the action itself has happened. (Service calls
// such as incidents.Service.PostUpdate audit by themselves; use this for
// actions that go straight to the store.)
func (h *Handler) audit(c echo.Context, action, targetType, targetID string, detail map[string]any) {
	if err := h.opt.Store.Audit(c.Request().Context(), Principal(c), action, targetType, targetID, detail); err != nil {
		h.log.Error("write audit log", "err", err, "action", action)
	}
}

// ctx bounds the store work of one request.
func ctx(c echo.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), 10*time.Second)
}

// withStore runs fn with the store and a context bounded as ctx does.
func (h *Handler) withStore(c echo.Context, fn func(ctx context.Context, st *store.Store) error) error {
	st := h.opt.Store
	cx, cancel := ctx(c)
	defer cancel()
	return fn(cx, st)
}

// bodyLimit bounds console form bodies (gateway/http/bodylimit).
const bodyLimit = 1 << 20

func formTooLarge(n int64) error {
	return gateway.Errorf(gateway.ETOOLARGE, "The form is larger than %d bytes.", n)
}

func (h *Handler) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := bodylimit.Limit(c.Response(), c.Request(), bodyLimit, formTooLarge); err != nil {
			return err
		}
		return next(c)
	}
}
