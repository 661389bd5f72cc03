// Package web serves what customers see of Herald: the status page (`/`),
// incident permalinks (`/incidents/{id}`), the history by month
// (`/history`), its Atom and RSS feeds, and Atlassian Statuspage's public
// API v2 (`/api/v2/*.json`) with the same field names and values, so that
// status aggregators and chat bots written for Statuspage read Herald too.
//
// Everything is rendered on the server with html/template from templates
// embedded in the package, works without JavaScript, and carries an ETag
// and a Last-Modified header derived from the data's version (one cheap
// query, read again after each write of this process and at least every
// second), so unchanged pages cost at most that query and a 304. A page that did
// change is rendered from a fixed handful of queries, whatever the number
// of incidents (see store.PageSnapshot).
package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/singleflight"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/http/errstatus"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/subscribers"
)

// Options configure the public pages.
type Options struct {
	// Page names the status page; Page.URL, when set, is the base of the
	// absolute links of feeds and the API (else the request's host).
	Page gateway.PageInfo
	// Store is the store; without it (while Herald is starting) the
	// pages answer 503 with Retry-After.
	Store *store.Store
	// Subscribers is the subscribers service. Leaving it nil serves no
	// subscribe pages at all, unless Subscribe is set: they then answer
	// 503 (while Herald is starting).
	Subscribers *subscribers.Service
	Subscribe   bool
	// BodyLimit bounds what the subscribe, manage and unsubscribe forms
	// (and the subscribe form's JSON twin) read (limits.public_body), in
	// bytes; default 64 KiB.
	BodyLimit int64
	// Now is the clock of uptime bars and the history's current month.
	Now func() time.Time
	Log *slog.Logger
}

// Handler serves the public pages. It keeps no state another replica
// needs: its caches hold rendered bodies by the data version they were
// rendered from, and that version, re-read after every write of this
// process and at least every second (so a change made through another
// replica shows within a second).
type Handler struct {
	opt   Options
	log   *slog.Logger
	tmpl  *pageSet
	md    *markdown
	cache *bodyCache
	// versions spares cached answers the version query.
	versions versionCache
	// renders joins concurrent renders of one body.
	renders singleflight.Group
	csrf    echo.MiddlewareFunc
}

// Register adds the public routes to e and returns their handler.
func Register(e *echo.Echo, opt Options) *Handler {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.BodyLimit <= 0 {
		opt.BodyLimit = defaultPublicBodyLimit
	}
	h := &Handler{opt: opt, log: opt.Log, tmpl: mustParseTemplates(), md: newMarkdown(), cache: newBodyCache(256),
		versions: versionCache{maxAge: versionMaxAge}}
	get := func(path string, fn echo.HandlerFunc) {
		e.GET(path, fn)
		e.HEAD(path, fn)
	}
	get("/", h.page(h.ready(h.statusPage)))
	get("/incidents/:id", h.page(h.ready(h.incidentPage)))
	get("/history", h.page(h.ready(h.historyPage)))
	get("/history.atom", h.ready(h.atomFeed))
	get("/history.rss", h.ready(h.rssFeed))
	get("/assets/:name", h.page(h.asset))
	h.apiRoutes(get)
	if h.subscribeEnabled() {
		h.subscribeRoutes(e)
	}
	return h
}

// ready returns fn, or, while Herald starts (no store yet), a handler that
// answers 503: the routes are registered before the database is ready and
// again, with the store, once it is (gateway/http's Publish), so no
// handler checks for it.
func (h *Handler) ready(fn echo.HandlerFunc) echo.HandlerFunc {
	return readyIf(h.opt.Store != nil, "The status page is starting; try again in a few seconds.", fn)
}

// readyIf returns fn when ok, else a handler answering 503 with message.
func readyIf(ok bool, message string, fn echo.HandlerFunc) echo.HandlerFunc {
	if ok {
		return fn
	}
	return func(echo.Context) error {
		return gateway.Errorf(gateway.EUNAVAILABLE, "%s", message)
	}
}

// baseURL is the absolute base of links in feeds and the API.
func (h *Handler) baseURL(c echo.Context) string {
	if u := strings.TrimRight(h.opt.Page.URL, "/"); u != "" {
		return u
	}
	return c.Scheme() + "://" + c.Request().Host
}

// pageName is the page's name, "Status" when the config names none.
func (h *Handler) pageName() string {
	if h.opt.Page.Name != "" {
		return h.opt.Page.Name
	}
	return "Status"
}

// page wraps an HTML page handler: an error becomes an HTML error page
// with the status errstatus maps it to; a 5xx is logged, since no error
// handler sees it after the page is written.
func (h *Handler) page(fn echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", contentSecurityPolicy)
		err := fn(c)
		if err == nil || c.Response().Committed {
			return err
		}
		status := errstatus.Of(err)
		switch {
		case status == http.StatusServiceUnavailable:
			c.Response().Header().Set("Retry-After", "5")
		case status == http.StatusTooManyRequests:
			retryAfter(c, err)
		case status >= 500:
			h.log.Error("internal error", "err", err, "method", c.Request().Method, "path", c.Path(),
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		}
		body, rerr := h.tmpl.render("error", errorView{
			layoutView: h.layout("Error"), Status: status, StatusText: http.StatusText(status),
			Message: gateway.ErrorMessage(err),
		})
		if rerr != nil {
			h.log.Error("render error page", "err", rerr)
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.HTMLBlob(status, body)
	}
}

// contentSecurityPolicy lets pages load only their own style sheet and
// icon, post forms only to this site, and be framed by nobody (no
// clickjacking of the subscription forms).
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// now returns the handler's clock in UTC.
func (h *Handler) now() time.Time { return h.opt.Now().UTC() }

// ctx bounds the store reads of one request.
func ctx(c echo.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), 10*time.Second)
}

// errorView is the HTML error page.
type errorView struct {
	layoutView
	Status     int
	StatusText string
	Message    string
}
