package ingest

import (
	"context"
	"mime"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/sources/pagerduty"
)

// PagerDutyKind is the source kind whose requests are PagerDuty Events API
// v2 events, answered as PagerDuty answers them (see Enqueue).
const PagerDutyKind = "pagerduty"

// Request is one ingest request as the transport received it.
type Request struct {
	// Source is the source the route names (/ingest/{source}), or nil at
	// /v2/enqueue, where the event's routing_key picks the source.
	Source *gateway.Source
	// Token is the request's own (see Token); ContentType its header.
	Token, ContentType string
	// Read reads the body within the transport's limits; release gives
	// back what reading took and is never nil.
	Read func() (body []byte, release func(), err error)
}

// Receive authenticates, rate-limits and stores one request of a source
// in its own format (see Ingest), received at now. Errors: EUNAUTHORIZED
// for a wrong or missing token, ERATELIMITED, EUNSUPPORTED for a
// Content-Type the format does not take, the reader's, and Ingest's. The
// body is released once its alerts are stored.
func (s *Service) Receive(ctx context.Context, req Request, now time.Time) (Result, error) {
	src := req.Source
	if err := Authenticate(src, req.Token); err != nil {
		return Result{}, err
	}
	if err := s.Allow(src, now); err != nil {
		return Result{}, err
	}
	if err := s.CheckContentType(src, req.ContentType); err != nil {
		return Result{}, err
	}
	body, release, err := req.Read()
	defer release()
	if err != nil {
		return Result{}, err
	}
	return s.Ingest(ctx, src, body, req.ContentType, now)
}

// Enqueued is what became of an event: the source that took it (nil when
// none was found), PagerDuty's dedup_key for the answer, and the counts.
type Enqueued struct {
	Source   *gateway.Source
	DedupKey string
	Result   Result
}

// Enqueue authenticates, rate-limits, decodes and stores one Events API v2
// event received at now. With ev.Source set, the token is ev.Token or else
// the event's routing_key, since many PagerDuty clients can set nothing
// else; with ev.Source nil, the routing_key is a source token and picks
// the source, so any source's token is taken: the endpoint, not the
// source's kind, says the body is an event. Errors: EUNAUTHORIZED,
// ERATELIMITED, EUNSUPPORTED for a Content-Type other than JSON, the
// decoder's EINVALID and EUNPROCESSABLE (pagerduty.ErrorResponse renders
// those as PagerDuty does), and Accept's.
func (s *Service) Enqueue(ctx context.Context, ev Request, now time.Time) (Enqueued, error) {
	src := ev.Source
	dec, err := s.event(ctx, ev, &src, now)
	out := Enqueued{Source: src, DedupKey: dec.DedupKey}
	if err == nil {
		out.Result, err = s.Accept(ctx, src, []gateway.Alert{dec.Alert}, now)
	}
	return out, err
}

// event reads, authenticates and decodes an event; a source the
// routing_key picks is stored in *src.
func (s *Service) event(ctx context.Context, ev Request, src **gateway.Source, now time.Time) (pagerduty.Event, error) {
	if *src != nil && ev.Token != "" {
		if err := Authenticate(*src, ev.Token); err != nil {
			return pagerduty.Event{}, err
		}
		if err := s.Allow(*src, now); err != nil {
			return pagerduty.Event{}, err
		}
	}
	if err := checkJSON(ev.ContentType); err != nil {
		return pagerduty.Event{}, err
	}
	body, release, err := ev.Read()
	release() // an event is small once decoded; its store goes through Accept
	if err != nil {
		return pagerduty.Event{}, err
	}
	dec, decodeErr := pagerduty.DecodeEvent(body, now)
	if *src == nil || ev.Token == "" {
		if dec.RoutingKey == "" {
			return dec, decodeErr // PagerDuty's 400: 'routing_key' is missing or blank
		}
		if *src == nil {
			if *src, err = s.SourceByToken(ctx, dec.RoutingKey); err != nil {
				return dec, err
			}
		} else if err := Authenticate(*src, dec.RoutingKey); err != nil {
			return dec, err
		}
		if err := s.Allow(*src, now); err != nil {
			return dec, err
		}
	}
	return dec, decodeErr
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
