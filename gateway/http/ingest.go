package http

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/http/bodylimit"
	"github.com/heraldstatus/herald/gateway/ingest"
	"github.com/heraldstatus/herald/gateway/sources/pagerduty"
	"github.com/heraldstatus/herald/gateway/store"
)

// defaultIngestBodyLimit is limits.ingest_body's default: a real
// Alertmanager group of 400 alerts is about 130 KB.
const defaultIngestBodyLimit = 10 << 20

// pagerDutyKind is the source kind whose requests are answered as
// PagerDuty's Events API answers them.
const pagerDutyKind = "pagerduty"

// ingestAPI serves the ingest endpoints and the admin API of what ingest
// uses (sources, rules, alerts). It builds the ingest service for the
// store the server holds, once that store is set, and again if it is
// replaced.
type ingestAPI struct {
	s      *Server
	svc    atomic.Pointer[ingest.Service]
	budget *ingestBudget
}

// ingestRoutes registers the ingest endpoints (outside the admin API: they
// authenticate with source tokens) and the admin routes of sources, rules
// and alerts.
func (s *Server) ingestRoutes(e *echo.Echo, api *echo.Group) {
	h := &ingestAPI{s: s, budget: newIngestBudget(s.ingestBodyLimit())}
	e.POST("/ingest/:source", h.ingest, s.limitAuthFailures("ingest/"), s.requireStore)
	// Prometheus pointed at Herald as at an Alertmanager (path_prefix
	// /ingest/<source>) posts to <prefix>/api/v2/alerts.
	e.POST("/ingest/:source/api/v2/alerts", h.ingest, s.limitAuthFailures("ingest/"), s.requireStore)
	// amtool reads <alertmanager.url>/api/v2/status.
	e.GET("/ingest/:source/api/v2/status", h.alertmanagerStatus, s.limitAuthFailures("ingest/"), s.requireStore)
	e.POST("/v2/enqueue", h.enqueue, s.limitAuthFailures("enqueue"), s.requireStore)
	s.sourceRoutes(api)
	h.ruleRoutes(api)
	s.alertRoutes(api)
}

// service returns the ingest service of the current store (the routes
// run behind requireStore, so there is one).
func (h *ingestAPI) service() *ingest.Service {
	st := h.s.Store()
	cur := h.svc.Load()
	if cur != nil && cur.Store() == st {
		return cur
	}
	build := h.s.opt.NewIngest
	if build == nil {
		build = func(st *store.Store) *ingest.Service {
			return ingest.New(st, ingest.Options{Log: h.s.log, Metrics: h.s.opt.Metrics})
		}
	}
	if svc := build(st); h.svc.CompareAndSwap(cur, svc) {
		return svc
	}
	return h.svc.Load() // another request built it first: share its rate limits
}

// ingest serves POST /ingest/{source}: the counts once the request's
// alerts are committed, with 202, or 200 for an alertmanager-api source
// (see ingestStatus).
func (h *ingestAPI) ingest(c echo.Context) error {
	start, svc := time.Now(), h.service()
	src, err := namedSource(c, svc)
	if err != nil {
		svc.Observe(ingest.UnknownSource, time.Since(start), ingest.Result{}, err)
		return err
	}
	if src.Kind == pagerDutyKind {
		return h.pagerDuty(c, svc, src, start)
	}
	res, err := h.ingestBody(c, svc, src)
	svc.Observe(src.Name, time.Since(start), res, err)
	if err != nil {
		if src.Kind == alertmanagerAPIKind {
			if status, body := alertmanagerError(err); status != 0 {
				return c.JSONBlob(status, body)
			}
		}
		return err
	}
	return c.JSON(ingestStatus(src.Kind), res)
}

func (h *ingestAPI) ingestBody(c echo.Context, svc *ingest.Service, src *gateway.Source) (ingest.Result, error) {
	r := c.Request()
	if err := authenticate(c, src, ingest.Token(r)); err != nil {
		return ingest.Result{}, err
	}
	now := time.Now()
	if err := svc.Allow(src, now); err != nil {
		return ingest.Result{}, err
	}
	ct := r.Header.Get("Content-Type")
	if err := svc.CheckContentType(src, ct); err != nil {
		return ingest.Result{}, err
	}
	body, release, err := h.readBody(c)
	defer release()
	if err != nil {
		return ingest.Result{}, err
	}
	return svc.Ingest(r.Context(), src, body, ct, now)
}

// enqueue serves POST /v2/enqueue, PagerDuty's Events API v2: the event's
// routing_key is a source token and picks the source. The endpoint, not
// the source's kind, says the body is an Events API event, so any
// source's token is taken.
func (h *ingestAPI) enqueue(c echo.Context) error {
	return h.pagerDuty(c, h.service(), nil, time.Now())
}

// pagerDuty serves one Events API v2 event, at /v2/enqueue (src nil) or at
// /ingest/{source} for a source of kind pagerduty, and answers as
// PagerDuty does: 202 {"status":"success","message":"Event processed",
// "dedup_key":…}, or 400 {"status":"invalid event",…,"errors":[…]}.
// Authentication, limits and the store answer in Herald's error shape.
func (h *ingestAPI) pagerDuty(c echo.Context, svc *ingest.Service, src *gateway.Source, start time.Time) error {
	now := time.Now()
	ev, err := h.pagerDutyEvent(c, svc, &src, now)
	label := ingest.UnknownSource
	if src != nil {
		label = src.Name
	}
	var res ingest.Result
	if err == nil {
		res, err = svc.Accept(c.Request().Context(), src, []gateway.Alert{ev.Alert}, now)
	}
	svc.Observe(label, time.Since(start), res, err)
	if err != nil {
		if status, body := pagerduty.ErrorResponse(err); status != 0 {
			return c.JSONBlob(status, body)
		}
		return err
	}
	return c.JSONBlob(http.StatusAccepted, pagerduty.SuccessResponse(ev.DedupKey))
}

// pagerDutyEvent reads, authenticates and decodes an event. With *src
// set, the token is the request's (see ingest.Token) or else the event's
// routing_key, since many PagerDuty clients can set nothing else; with
// *src nil the routing_key picks the source, which is stored in *src.
func (h *ingestAPI) pagerDutyEvent(c echo.Context, svc *ingest.Service, src **gateway.Source, now time.Time) (pagerduty.Event, error) {
	r := c.Request()
	token := ingest.Token(r)
	if *src != nil && token != "" {
		if err := authenticate(c, *src, token); err != nil {
			return pagerduty.Event{}, err
		}
		if err := svc.Allow(*src, now); err != nil {
			return pagerduty.Event{}, err
		}
	}
	if err := checkJSON(r.Header.Get("Content-Type")); err != nil {
		return pagerduty.Event{}, err
	}
	body, release, err := h.readBody(c)
	release() // an event is small once decoded; its store goes through Accept
	if err != nil {
		return pagerduty.Event{}, err
	}
	ev, decodeErr := pagerduty.DecodeEvent(body, now)
	if *src == nil || token == "" {
		if ev.RoutingKey == "" {
			return ev, decodeErr // PagerDuty's 400: 'routing_key' is missing or blank
		}
		if *src == nil {
			if *src, err = svc.SourceByToken(r.Context(), ev.RoutingKey); err != nil {
				return ev, err
			}
		} else if err := authenticate(c, *src, ev.RoutingKey); err != nil {
			return ev, err
		}
		if err := svc.Allow(*src, now); err != nil {
			return ev, err
		}
	}
	return ev, decodeErr
}

// namedSource returns the source the route's :source names. An unknown
// source is answered exactly as a wrong token (the same status, body and
// header), so that source names cannot be enumerated.
func namedSource(c echo.Context, svc *ingest.Service) (*gateway.Source, error) {
	src, err := svc.Source(c.Request().Context(), c.Param("source"))
	if gateway.ErrorCode(err) == gateway.ENOTFOUND {
		return nil, authenticate(c, &gateway.Source{Name: c.Param("source")}, ingest.Token(c.Request()))
	}
	return src, err
}

// authenticate checks a source token, telling HTTP clients how to
// authenticate when it fails.
func authenticate(c echo.Context, src *gateway.Source, token string) error {
	err := ingest.Authenticate(src, token)
	if err != nil {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
	}
	return err
}

// checkJSON accepts application/json (with parameters) or no Content-Type.
func checkJSON(ct string) error {
	if ct == "" {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "application/json" {
		return nil
	}
	return gateway.Errorf(gateway.EUNSUPPORTED, "Content-Type must be application/json, not %q.", ct)
}

// ingestBodyLimit is limits.ingest_body, or its default.
func (s *Server) ingestBodyLimit() int64 {
	if s.opt.IngestBodyLimit > 0 {
		return s.opt.IngestBodyLimit
	}
	return defaultIngestBodyLimit
}

// readBody reads an ingest body up to limits.ingest_body: ETOOLARGE past
// it (bodylimit.Limit: a declared length is refused before reading), EUNSUPPORTED for a
// compressed body. It first waits for the body's share of the memory
// budget (see ingestBudget), which the caller gives back with release
// once the body is decoded and stored; release is never nil.
func (h *ingestAPI) readBody(c echo.Context) (body []byte, release func(), err error) {
	r := c.Request()
	limit := h.s.ingestBodyLimit()
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		return nil, func() {}, gateway.Errorf(gateway.EUNSUPPORTED, "Content-Encoding %q is not supported; send the body uncompressed.", enc)
	}
	if err := bodylimit.Limit(c.Response(), r, limit, nil); err != nil {
		return nil, func() {}, err
	}
	release, err = h.budget.acquire(r.Context(), r.ContentLength)
	if err != nil {
		return nil, release, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(max(r.ContentLength, 0), limit)+bytes.MinRead))
	_, err = buf.ReadFrom(r.Body)
	if _, over := bodylimit.Over(err); over {
		return nil, release, bodylimit.Check(err)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, release, &gateway.Error{Code: gateway.EINVALID, Message: "The request body could not be read.", Err: err}
	}
	return buf.Bytes(), release, nil
}
