package http

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/http/bodylimit"
	"github.com/heraldstatus/herald/gateway/ingest"
	"github.com/heraldstatus/herald/gateway/sources/pagerduty"
)

// defaultIngestBodyLimit is limits.ingest_body's default: a real
// Alertmanager group of 400 alerts is about 130 KB.
const defaultIngestBodyLimit = 10 << 20

// ingestAPI serves the ingest endpoints and the admin API of what ingest
// uses (sources, rules, alerts), with the ingest service of the server's
// services.
type ingestAPI struct {
	s      *Server
	budget *ingestBudget
}

// ingestRoutes registers the ingest endpoints (outside the admin API: they
// authenticate with source tokens) and the admin routes of sources, rules
// and alerts.
func (s *Server) ingestRoutes(e *echo.Echo, api *echo.Group) {
	h := &ingestAPI{s: s, budget: s.budget}
	e.POST("/ingest/:source", h.ingest, s.limitAuthFailures("ingest/"))
	// Prometheus pointed at Herald as at an Alertmanager (path_prefix
	// /ingest/<source>) posts to <prefix>/api/v2/alerts.
	e.POST("/ingest/:source/api/v2/alerts", h.ingest, s.limitAuthFailures("ingest/"))
	// amtool reads <alertmanager.url>/api/v2/status.
	e.GET("/ingest/:source/api/v2/status", h.alertmanagerStatus, s.limitAuthFailures("ingest/"))
	e.POST("/v2/enqueue", h.enqueue, s.limitAuthFailures("enqueue"))
	s.sourceRoutes(api)
	h.ruleRoutes(api)
	s.alertRoutes(api)
}

// ingest serves POST /ingest/{source}: the counts once the request's
// alerts are committed, with 202, or 200 for an alertmanager-api source
// (see ingestStatus).
func (h *ingestAPI) ingest(c echo.Context) error {
	start, svc := time.Now(), h.s.svc.Ingest
	src, err := namedSource(c, svc)
	if err != nil {
		svc.Observe(ingest.UnknownSource, time.Since(start), ingest.Result{}, err)
		return err
	}
	if src.Kind == ingest.PagerDutyKind {
		return h.pagerDuty(c, svc, src, start)
	}
	res, err := svc.Receive(c.Request().Context(), h.request(c, src), time.Now())
	svc.Observe(src.Name, time.Since(start), res, err)
	if err != nil {
		if gateway.ErrorCode(err) == gateway.EUNAUTHORIZED {
			challenge(c)
		}
		if src.Kind == alertmanagerAPIKind {
			if status, body := alertmanagerError(err); status != 0 {
				return c.JSONBlob(status, body)
			}
		}
		return err
	}
	return c.JSON(ingestStatus(src.Kind), res)
}

// request is the ingest request c carries for src (nil at /v2/enqueue).
func (h *ingestAPI) request(c echo.Context, src *gateway.Source) ingest.Request {
	r := c.Request()
	return ingest.Request{Source: src, Token: ingest.Token(r), ContentType: r.Header.Get("Content-Type"),
		Read: func() ([]byte, func(), error) { return h.readBody(c) }}
}

// enqueue serves POST /v2/enqueue, PagerDuty's Events API v2: the event's
// routing_key is a source token and picks the source. The endpoint, not
// the source's kind, says the body is an Events API event, so any
// source's token is taken.
func (h *ingestAPI) enqueue(c echo.Context) error {
	return h.pagerDuty(c, h.s.svc.Ingest, nil, time.Now())
}

// pagerDuty serves one Events API v2 event, at /v2/enqueue (src nil) or at
// /ingest/{source} for a source of kind pagerduty (see ingest.Enqueue),
// and answers as PagerDuty does: 202 {"status":"success","message":"Event
// processed","dedup_key":…}, or 400 {"status":"invalid event",…,
// "errors":[…]}. Authentication, limits and the store answer in Herald's
// error shape; a wrong token for a named source asks for a Bearer token,
// as every ingest route does.
func (h *ingestAPI) pagerDuty(c echo.Context, svc *ingest.Service, src *gateway.Source, start time.Time) error {
	out, err := svc.Enqueue(c.Request().Context(), h.request(c, src), time.Now())
	label := ingest.UnknownSource
	if out.Source != nil {
		label = out.Source.Name
	}
	svc.Observe(label, time.Since(start), out.Result, err)
	if err != nil {
		if status, body := pagerduty.ErrorResponse(err); status != 0 {
			return c.JSONBlob(status, body)
		}
		if src != nil && gateway.ErrorCode(err) == gateway.EUNAUTHORIZED {
			challenge(c)
		}
		return err
	}
	return c.JSONBlob(http.StatusAccepted, pagerduty.SuccessResponse(out.DedupKey))
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
		challenge(c)
	}
	return err
}

// challenge tells an HTTP client how to authenticate to ingest.
func challenge(c echo.Context) {
	c.Response().Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
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
