package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/heraldstatus/herald/gateway"
)

// Limits on a broadcast's words.
const (
	MaxSubjectLength        = 200
	MaxBroadcastBody        = 50_000
	MaxIdempotencyKeyLength = 200
)

// Broadcast is support's own message to subscribers.
type Broadcast struct {
	Subject string
	Body    string
	// Components are ids or exact names; none sends to every subscriber.
	Components []string
	// DryRun counts the recipients and writes nothing.
	DryRun bool
	// IdempotencyKey makes a repeated request (a retry after a timeout, a
	// double click) return the first broadcast and send nothing more.
	// Required unless DryRun.
	IdempotencyKey string
	Actor          gateway.Principal
	Page           gateway.PageInfo
}

// BroadcastResult says what a broadcast did.
type BroadcastResult struct {
	// Event is the broadcast's event: the stored one, or for a dry run the
	// one that would be stored (no id).
	Event *gateway.Event
	// Recipients is how many deliveries the broadcast has (or, for a dry
	// run, would have now).
	Recipients int
	// Replayed is true when the idempotency key had been used: Event is
	// the first broadcast and nothing new was planned.
	Replayed bool
}

// Broadcast validates b, resolves its components and then either counts its
// recipients (a dry run, with the planner's own selection) or writes the
// event once per idempotency key and plans it. Errors: EUNPROCESSABLE
// naming the field at fault; ECONFLICT when the key was used for a
// different broadcast.
func (p *Planner) Broadcast(ctx context.Context, b Broadcast) (*BroadcastResult, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	e := &gateway.Event{
		Type:   gateway.EventBroadcast,
		Notify: true,
		Actor:  b.Actor.Name,
		Payload: gateway.EventPayload{
			Page:      b.Page,
			Broadcast: &gateway.BroadcastMessage{Subject: strings.TrimSpace(b.Subject), Body: b.Body},
		},
	}
	for i, ref := range b.Components {
		c, err := p.Store.Component(ctx, ref)
		if gateway.ErrorCode(err) == gateway.ENOTFOUND {
			return nil, gateway.FieldError(fmt.Sprintf("components[%d]", i), fmt.Sprintf("no component %q", ref))
		} else if err != nil {
			return nil, err
		}
		if !slices.Contains(e.ComponentIDs, c.ID) {
			e.ComponentIDs = append(e.ComponentIDs, c.ID)
		}
	}
	e.AllSubscribers = len(e.ComponentIDs) == 0
	if b.DryRun {
		n, err := p.Store.CountRecipients(ctx, *e)
		return &BroadcastResult{Event: e, Recipients: n}, err
	}
	// What the page shows now and the components the broadcast concerns
	// (every one when it goes to everyone): a Statuspage-format webhook
	// reads both (see docs/webhooks.md).
	state, err := p.Store.PageState(ctx)
	if err != nil {
		return nil, err
	}
	ids := e.ComponentIDs
	if e.AllSubscribers {
		ids = state.ComponentIDs()
	}
	e.Payload.Capture(state, ids)
	// Keys are per kind of request: a broadcast's key cannot collide with
	// one another feature chose.
	e.IdempotencyKey = "broadcast:" + b.IdempotencyKey
	ev, created, err := p.Store.CreateEventOnce(ctx, e)
	if err != nil {
		return nil, err
	}
	if !created && !sameBroadcast(ev, e) {
		return nil, &gateway.Error{Code: gateway.ECONFLICT, Message: "This Idempotency-Key was used for a different broadcast.",
			Fields: map[string]string{"Idempotency-Key": "was used for a different broadcast"}}
	}
	// Planning a replayed broadcast finishes what a failed first request
	// began, and is a no-op when it was planned.
	if _, err := p.Plan(ctx, ev.ID); err != nil {
		return nil, err
	}
	n, err := p.Store.CountEventDeliveries(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	return &BroadcastResult{Event: ev, Recipients: n, Replayed: !created}, nil
}

func (b Broadcast) validate() error {
	subject := strings.TrimSpace(b.Subject)
	switch {
	case subject == "":
		return gateway.FieldError("subject", "is required")
	case utf8.RuneCountInString(subject) > MaxSubjectLength:
		return gateway.FieldError("subject", fmt.Sprintf("must be at most %d characters", MaxSubjectLength))
	case strings.ContainsFunc(subject, unicode.IsControl):
		// A subject becomes a mail header: a line break would inject headers.
		return gateway.FieldError("subject", "must be one line without control characters")
	case strings.TrimSpace(b.Body) == "":
		return gateway.FieldError("body", "is required")
	case len(b.Body) > MaxBroadcastBody:
		return gateway.FieldError("body", fmt.Sprintf("must be at most %d bytes", MaxBroadcastBody))
	case !utf8.ValidString(b.Subject) || !utf8.ValidString(b.Body):
		return gateway.FieldError("body", "must be UTF-8 text")
	}
	if b.DryRun {
		return nil
	}
	switch k := b.IdempotencyKey; {
	case k == "":
		return gateway.FieldError("Idempotency-Key", "is required: a unique value per broadcast, so a retried request sends nothing twice")
	case len(k) > MaxIdempotencyKeyLength || strings.ContainsFunc(k, func(r rune) bool { return r < 0x21 || r > 0x7e }):
		return gateway.FieldError("Idempotency-Key", fmt.Sprintf("must be at most %d printable ASCII characters", MaxIdempotencyKeyLength))
	}
	return nil
}

// sameBroadcast reports whether a stored broadcast says what a repeat asks.
func sameBroadcast(stored, req *gateway.Event) bool {
	a, b := stored.Payload.Broadcast, req.Payload.Broadcast
	if a == nil || b == nil || a.Subject != b.Subject || a.Body != b.Body {
		return false
	}
	x, y := slices.Sorted(slices.Values(stored.ComponentIDs)), slices.Sorted(slices.Values(req.ComponentIDs))
	return slices.Equal(x, y)
}
