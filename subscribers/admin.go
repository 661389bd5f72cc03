package subscribers

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/channels"
	"github.com/heraldstatus/herald/gateway/store"
)

// Get returns a subscriber by id, without its secret; ENOTFOUND when none.
func (s *Service) Get(ctx context.Context, id string) (*gateway.Subscriber, error) {
	sub, err := s.st.Subscriber(ctx, id)
	if err != nil {
		return nil, err
	}
	return public(sub), nil
}

// ListFilter selects subscribers for support: Query is a substring of the
// address (case-insensitive), Status and Kind exact; Cursor is the
// NextCursor of the previous page; Limit is 1 to 1000 (default 100).
type ListFilter struct {
	Query string
	// QueryEmailsOnly matches Query against email addresses only (see
	// store.SubscriberFilter).
	QueryEmailsOnly bool
	Status          gateway.SubscriberStatus
	Kind            gateway.SubscriberKind
	// Component (an id or exact name) keeps those who hear about it:
	// subscribed to everything, to it, or to its group.
	Component string
	Cursor    string
	Limit     int
}

// List pages through subscribers newest first, without secrets. next is
// the cursor of the following page, "" on the last. A malformed cursor,
// status or kind is EUNPROCESSABLE naming it.
func (s *Service) List(ctx context.Context, f ListFilter) (subs []gateway.Subscriber, next string, err error) {
	sf := store.SubscriberFilter{Query: f.Query, QueryEmailsOnly: f.QueryEmailsOnly, Status: f.Status, Kind: f.Kind, Limit: f.Limit}
	switch {
	case sf.Limit == 0:
		sf.Limit = 100
	case sf.Limit < 1 || sf.Limit > 1000:
		return nil, "", gateway.FieldError("limit", "must be a number from 1 to 1000")
	}
	switch f.Status {
	case "", gateway.SubscriberPending, gateway.SubscriberActive, gateway.SubscriberUnsubscribed, gateway.SubscriberDisabled:
	default:
		return nil, "", gateway.FieldError("status", "must be pending, active, unsubscribed or disabled")
	}
	if f.Kind != "" && !channels.Known(f.Kind) {
		return nil, "", kindError()
	}
	if len(f.Query) > MaxAddressLength {
		return nil, "", gateway.FieldError("q", "is longer than 254 characters")
	}
	if f.Component != "" {
		comp, err := s.st.Component(ctx, f.Component)
		if gateway.ErrorCode(err) == gateway.ENOTFOUND {
			return nil, "", gateway.FieldError("component", "no such component")
		} else if err != nil {
			return nil, "", err
		}
		sf.Component = comp.ID
	}
	if f.Cursor != "" {
		if sf.Before, sf.BeforeID, err = decodeCursor(f.Cursor); err != nil {
			return nil, "", err
		}
	}
	if subs, err = s.st.Subscribers(ctx, sf); err != nil {
		return nil, "", err
	}
	if subs == nil {
		subs = []gateway.Subscriber{}
	}
	if len(subs) == sf.Limit {
		last := subs[len(subs)-1]
		next = base64.RawURLEncoding.EncodeToString([]byte(last.CreatedAt.UTC().Format(time.RFC3339Nano) + "|" + last.ID))
	}
	return subs, next, nil
}

func decodeCursor(c string) (time.Time, string, error) {
	bad := gateway.FieldError("cursor", "is not a cursor from a previous page")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", bad
	}
	at, id, ok := strings.Cut(string(raw), "|")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", bad
	}
	return t, id, nil
}

// Patch is an admin's change to a subscriber; nil fields stay as they are.
type Patch struct {
	// All, Components and Groups replace the choice (see Subscribe).
	All        *bool
	Components *[]string
	Groups     *[]string
	// Format is a webhook's body format.
	Format *gateway.WebhookFormat
	// Status may be unsubscribed, disabled (a pause by staff) or active:
	// only to resume a subscriber staff paused after it had confirmed
	// (see checkActivation); anything else is ECONFLICT naming the
	// consent rule.
	Status        *gateway.SubscriberStatus
	ConsentSource *string
}

// Update applies an admin's patch and audits it (field names, never the
// address). ENOTFOUND for an unknown id; EUNPROCESSABLE naming the field
// for a change that does not apply; ECONFLICT with a *ConsentError for an
// activation the consent rules refuse, audited as
// subscriber.update.refused.
func (s *Service) Update(ctx context.Context, who gateway.Principal, id string, p Patch) (*gateway.Subscriber, error) {
	var ch *choice
	if p.All != nil || p.Components != nil || p.Groups != nil {
		c, err := s.resolveChoice(ctx, deref(p.All), deref(p.Components), deref(p.Groups))
		if err != nil {
			return nil, err
		}
		ch = &c
	}
	if p.ConsentSource != nil {
		if err := checkConsent(false, *p.ConsentSource); err != nil {
			return nil, err
		}
	}
	var sub *gateway.Subscriber
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if sub, err = tx.LockSubscriber(id); err != nil {
			return err
		}
		changed := []string{}
		if ch != nil {
			if err := s.setChoice(tx, sub, *ch); err != nil {
				return err
			}
			changed = append(changed, "components")
		}
		if p.Format != nil {
			if sub.Kind != gateway.SubscriberWebhook {
				return gateway.FieldError("format", "applies to webhook subscribers only")
			}
			if sub.Format, err = checkFormat(*p.Format); err != nil {
				return err
			}
			changed = append(changed, "format")
		}
		if p.ConsentSource != nil {
			sub.ConsentSource = *p.ConsentSource
			changed = append(changed, "consent_source")
		}
		if p.Status != nil && *p.Status != sub.Status {
			if err := s.setStatus(tx, who, sub, *p.Status); err != nil {
				return err
			}
			changed = append(changed, "status")
		}
		if err := tx.SaveSubscriber(sub); err != nil {
			return err
		}
		return tx.Audit(who, "subscriber.update", "subscriber", sub.ID, map[string]any{"changed": changed, "status": sub.Status})
	})
	if err != nil {
		return nil, s.auditRefusal(ctx, who, "subscriber.update", err)
	}
	return public(sub), nil
}

// setStatus applies an admin's status change to sub (saved by the caller).
func (s *Service) setStatus(tx *store.Tx, who gateway.Principal, sub *gateway.Subscriber, to gateway.SubscriberStatus) error {
	switch to {
	case gateway.SubscriberUnsubscribed:
		return s.unsubscribe(tx, who, sub, "unsubscribed by "+who.Name)
	case gateway.SubscriberDisabled:
		// A pause is of an active subscriber only: pausing one that is
		// pending, unsubscribed or stopped by Herald would make it look
		// resumable (checkActivation).
		if sub.Status != gateway.SubscriberActive {
			return gateway.Errorf(gateway.ECONFLICT, "Only an active subscriber can be disabled (paused); this one is %s. Unsubscribe it to stop it for good.", sub.Status)
		}
		sub.Status, sub.DisabledReason = gateway.SubscriberDisabled, pausedPrefix+who.Name
		return nil
	case gateway.SubscriberActive:
		// Only a subscriber staff paused resumes here; everyone else
		// becomes active by their own click (see consent.go).
		reason, err := suppressionOf(tx, sub)
		if err != nil {
			return err
		}
		if err := checkActivation(sub, reason); err != nil {
			return err
		}
		sub.Status, sub.DisabledReason, sub.UnsubscribedAt = gateway.SubscriberActive, "", time.Time{}
		return nil
	}
	return gateway.FieldError("status", "must be active, unsubscribed or disabled")
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Erase deletes a subscriber for good: its row, address, subscriptions,
// deliveries and own events, and with its token nonce every link it was
// sent. The audit entry keeps the id only. A suppression of the address
// stays, as a hash: an erased address that bounced or complained is still
// never mailed. ENOTFOUND when there is no such subscriber.
func (s *Service) Erase(ctx context.Context, who gateway.Principal, id string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		ok, err := tx.DeleteSubscriber(id)
		if err != nil {
			return err
		}
		if !ok {
			return gateway.Errorf(gateway.ENOTFOUND, "Subscriber %q not found.", id)
		}
		return tx.Audit(who, "subscriber.erase", "subscriber", id, nil)
	})
}
