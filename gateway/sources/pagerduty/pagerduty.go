// Package pagerduty decodes PagerDuty Events API v2 alert events, the body
// of POST /v2/enqueue, so that any tool that can page PagerDuty can send
// to Herald instead:
//
//	{
//	  "routing_key": "hsrc_…",
//	  "event_action": "trigger",
//	  "dedup_key": "checkout-api/high-latency",
//	  "payload": {
//	    "summary": "p99 latency above 2s on checkout-api",
//	    "source": "web-1.prod.example",
//	    "severity": "critical",
//	    "timestamp": "2026-11-24T01:00:00.000+0000",
//	    "component": "checkout-api", "group": "payments", "class": "latency",
//	    "custom_details": {"p99_ms": 2350}
//	  },
//	  "client": "Example Monitor", "client_url": "https://monitor.example/checks/42",
//	  "links": [{"href": "…", "text": "Runbook"}], "images": [{"src": "…"}]
//	}
//
// In Herald the routing_key is a source token, so it only has to be
// present; the HTTP layer checks it. The event is validated as PagerDuty
// does: trigger needs payload.summary (at most 1024 characters),
// payload.source and payload.severity (critical, error, warning or info);
// acknowledge and resolve need dedup_key; dedup_key has at most 255
// characters. A trigger without dedup_key gets a random 32-hex-digit one,
// which the caller returns to the sender (see SuccessResponse).
//
// The event becomes one gateway.Alert whose fingerprint is the dedup_key:
// trigger and acknowledge are firing (an acknowledge carries the label
// pagerduty_action=acknowledge and no severity, so that the alert keeps
// the one it was triggered with), resolve is resolved. The payload's source,
// component, group, class and severity become labels so that routing rules
// can match them; custom_details become annotations (string values as
// they are, others as JSON); client_url is the generator URL. Raw is the
// event without its routing_key, so that no token is stored.
package pagerduty

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/sources/decode"
	"github.com/heraldstatus/herald/gateway/sources/internal/normalize"
)

// Action is an event's event_action.
type Action string

// The event actions of the Events API v2.
const (
	ActionTrigger     Action = "trigger"
	ActionAcknowledge Action = "acknowledge"
	ActionResolve     Action = "resolve"
)

// PagerDuty's limits on field lengths, in characters.
const (
	MaxSummaryLength  = 1024
	MaxDedupKeyLength = 255
)

// Event is a decoded Events API v2 event.
type Event struct {
	// RoutingKey is the event's routing_key: in Herald, a source token.
	RoutingKey string
	// DedupKey is the event's dedup_key, or the one generated for a
	// trigger that had none; it is also Alert.Fingerprint.
	DedupKey string
	Action   Action
	Alert    gateway.Alert
}

// event is the request body.
type event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *payload `json:"payload"`
	Client      string   `json:"client"`
	ClientURL   string   `json:"client_url"`
	// images and links are not decoded; they stay in Raw.
}

type payload struct {
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Severity      string          `json:"severity"`
	Timestamp     string          `json:"timestamp"`
	Component     string          `json:"component"`
	Group         string          `json:"group"`
	Class         string          `json:"class"`
	CustomDetails json.RawMessage `json:"custom_details"`
}

// iso8601 is the ISO 8601 form with a ±hhmm offset that PagerDuty's own
// examples use ("2015-07-17T08:42:58.315+0000"), accepted beside RFC 3339.
const iso8601 = "2006-01-02T15:04:05Z0700"

// Decoder decodes PagerDuty Events API v2 bodies.
type Decoder struct{}

var _ decode.Decoder = Decoder{}

// Decode implements decode.Decoder: it returns the one alert of the event
// (see DecodeEvent).
func (Decoder) Decode(body []byte, now time.Time) ([]gateway.Alert, error) {
	ev, err := DecodeEvent(body, now)
	if err != nil {
		return nil, err
	}
	return []gateway.Alert{ev.Alert}, nil
}

// ContentTypes implements decode.Decoder: the Events API takes
// application/json.
func (Decoder) ContentTypes() []string { return []string{"application/json"} }

// DecodeEvent decodes and validates one event received at now. Its error is
// a *gateway.Error: gateway.EINVALID for a body that is not a JSON object,
// gateway.EUNPROCESSABLE with every invalid field in Fields (named as
// PagerDuty names them, e.g. "payload.severity") otherwise; ErrorResponse
// renders it as PagerDuty does. Even with a validation error, the returned
// Event carries the RoutingKey when the body was a JSON object, so that the
// caller can authenticate first.
func DecodeEvent(body []byte, now time.Time) (Event, error) {
	var e event
	if err := normalize.Body(body, &e); err != nil {
		return Event{RoutingKey: e.RoutingKey}, err
	}
	ev := Event{RoutingKey: e.RoutingKey, DedupKey: e.DedupKey, Action: Action(e.EventAction)}
	if e.Payload == nil {
		e.Payload = &payload{}
	}
	var p normalize.Problems
	e.validate(&p)
	a := gateway.Alert{
		Severity:     gateway.ParseSeverity(e.Payload.Severity, gateway.SeverityWarning),
		Summary:      strings.TrimSpace(e.Payload.Summary),
		Labels:       e.Payload.labels(),
		Annotations:  e.Payload.details(),
		GeneratorURL: e.ClientURL,
		Raw:          redact(body),
	}
	if e.Client != "" {
		a.Annotations["client"] = e.Client
	}
	switch ev.Action {
	case ActionTrigger:
		a.Status = gateway.AlertFiring
		a.StartsAt = normalize.Time(&p, "payload.timestamp", e.Payload.Timestamp, iso8601)
	case ActionAcknowledge:
		// An acknowledge says someone is on it, not how bad it is: no
		// severity (ingest keeps the stored one), only the label.
		a.Status = gateway.AlertFiring
		a.Severity = ""
		a.Labels["pagerduty_action"] = string(ActionAcknowledge)
	case ActionResolve:
		a.Status = gateway.AlertResolved
	}
	if err := p.Err(); err != nil {
		return ev, err
	}
	if ev.DedupKey == "" {
		ev.DedupKey = newDedupKey()
	}
	a.Fingerprint = ev.DedupKey
	normalize.Finish(&p, "payload.timestamp", &a, now)
	ev.Alert = a
	return ev, p.Err()
}

// validate checks the event, its payload no longer nil, as the Events
// API v2 does, in PagerDuty's words.
func (e *event) validate(p *normalize.Problems) {
	const missing = "is missing or blank"
	if strings.TrimSpace(e.RoutingKey) == "" {
		p.Add("routing_key", missing)
	}
	switch Action(e.EventAction) {
	case ActionTrigger:
		required := []struct{ field, value string }{
			{"payload.summary", e.Payload.Summary},
			{"payload.source", e.Payload.Source},
			{"payload.severity", e.Payload.Severity},
		}
		for _, r := range required {
			if strings.TrimSpace(r.value) == "" {
				p.Add(r.field, missing)
			}
		}
		if utf8.RuneCountInString(e.Payload.Summary) > MaxSummaryLength {
			p.Add("payload.summary", "is too long (maximum is 1024 characters)")
		}
		switch e.Payload.Severity {
		case "critical", "error", "warning", "info", "":
		default:
			p.Add("payload.severity", "is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')")
		}
	case ActionAcknowledge, ActionResolve:
		if strings.TrimSpace(e.DedupKey) == "" {
			p.Add("dedup_key", missing)
		}
	case "":
		p.Add("event_action", missing)
	default:
		p.Add("event_action", "is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')")
	}
	if utf8.RuneCountInString(e.DedupKey) > MaxDedupKeyLength {
		p.Add("dedup_key", "is too long (maximum is 255 characters)")
	}
}

// labels returns the payload fields routing rules match on, those set.
func (pl *payload) labels() map[string]string {
	labels := map[string]string{
		"source":    pl.Source,
		"component": pl.Component,
		"group":     pl.Group,
		"class":     pl.Class,
		"severity":  pl.Severity,
	}
	for name, v := range labels {
		if v == "" {
			delete(labels, name)
		}
	}
	return labels
}

// details flattens custom_details into annotations: an object's string
// values as they are, its other values as compact JSON; anything but an
// object goes whole under "custom_details".
func (pl *payload) details() map[string]string {
	annotations := map[string]string{}
	raw := bytes.TrimSpace(pl.CustomDetails)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return annotations
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		annotations["custom_details"] = jsonText(raw)
		return annotations
	}
	for k, v := range fields {
		annotations[k] = jsonText(v)
	}
	return annotations
}

// jsonText renders a JSON value for an annotation: a string as its text,
// anything else as compact JSON.
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// redact returns the event without its routing_key (a Herald source
// token), as compact JSON with sorted keys.
func redact(body []byte) json.RawMessage {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return nil // unreachable: body decoded as an object already
	}
	for k := range fields {
		if strings.EqualFold(k, "routing_key") {
			delete(fields, k)
		}
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return nil
	}
	return b
}

// newDedupKey returns a random key the way PagerDuty makes one for a
// trigger without dedup_key: 32 hexadecimal digits (a UUID's 128 bits).
func newDedupKey() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}
