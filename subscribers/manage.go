package subscribers

import (
	"context"
	"strings"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// bySubscriberToken verifies a token of one of the allowed purposes inside
// tx and returns its subscriber, locked for the change to come.
func (s *Service) bySubscriberToken(tx *store.Tx, token string, allowed ...string) (*gateway.Subscriber, error) {
	p, err := parseToken(token, allowed...)
	if err != nil {
		return nil, err
	}
	sub, err := tx.LockSubscriber(p.id)
	if gateway.ErrorCode(err) == gateway.ENOTFOUND {
		return nil, invalidLink() // erased: the link died with it
	} else if err != nil {
		return nil, err
	}
	if err := s.verify(p, sub, s.o.Now()); err != nil {
		return nil, err
	}
	return sub, nil
}

// public strips what a subscriber's own pages must never show.
func public(sub *gateway.Subscriber) *gateway.Subscriber {
	sub.Secret = ""
	return sub
}

// Confirm confirms a subscription by the token of its confirmation link:
// a pending subscriber becomes active. It is idempotent: an active one is
// returned as it is. A link that is forged, revoked or whose subscriber
// was erased is ENOTFOUND wrapping ErrInvalidLink, one past its expiry
// ENOTFOUND wrapping ErrLinkExpired, and one for a subscription that has
// since ended (unsubscribed, disabled) is ECONFLICT.
func (s *Service) Confirm(ctx context.Context, token string) (*gateway.Subscriber, error) {
	var sub *gateway.Subscriber
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if sub, err = s.bySubscriberToken(tx, token, purposeConfirm); err != nil {
			return err
		}
		switch sub.Status {
		case gateway.SubscriberActive:
			return nil
		case gateway.SubscriberUnsubscribed, gateway.SubscriberDisabled:
			return gateway.Errorf(gateway.ECONFLICT, "This subscription has ended. Please subscribe again.")
		}
		sub.Status, sub.ConfirmedAt = gateway.SubscriberActive, s.o.Now()
		if err := tx.SaveSubscriber(sub); err != nil {
			return err
		}
		return tx.Audit(subscriberActor, "subscriber.confirm", "subscriber", sub.ID, nil)
	})
	if err != nil {
		return nil, err
	}
	return public(sub), nil
}

// ByManageToken returns the subscriber of a manage link (/subscriptions/
// {token}), whatever its status, with its subscriptions and without its
// secret. Errors as Confirm's for links.
func (s *Service) ByManageToken(ctx context.Context, token string) (*gateway.Subscriber, error) {
	p, err := parseToken(token, purposeManage)
	if err != nil {
		return nil, err
	}
	sub, err := s.st.Subscriber(ctx, p.id)
	if gateway.ErrorCode(err) == gateway.ENOTFOUND {
		return nil, invalidLink()
	} else if err != nil {
		return nil, err
	}
	if err := s.verify(p, sub, s.o.Now()); err != nil {
		return nil, err
	}
	return public(sub), nil
}

// SetSubscriptions changes what the subscriber of a manage link receives:
// everything (all, or nothing chosen), or the components and groups named
// (ids or exact names). A pending or active subscriber keeps its status;
// one that has unsubscribed or been disabled is ECONFLICT (subscribing
// again is the way back). Unknown names are EUNPROCESSABLE naming
// components[i] or groups[i].
func (s *Service) SetSubscriptions(ctx context.Context, manageToken string, all bool, components, groups []string) (*gateway.Subscriber, error) {
	ch, err := s.resolveChoice(ctx, all, components, groups)
	if err != nil {
		return nil, err
	}
	var sub *gateway.Subscriber
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if sub, err = s.bySubscriberToken(tx, manageToken, purposeManage); err != nil {
			return err
		}
		if sub.Status == gateway.SubscriberUnsubscribed || sub.Status == gateway.SubscriberDisabled {
			return gateway.Errorf(gateway.ECONFLICT, "This subscription has ended. Please subscribe again.")
		}
		if err := s.setChoice(tx, sub, ch); err != nil {
			return err
		}
		return tx.Audit(subscriberActor, "subscriber.update", "subscriber", sub.ID, map[string]any{
			"changed": []string{"components"}, "all_components": ch.all, "components": ch.components, "groups": ch.groups})
	})
	if err != nil {
		return nil, err
	}
	return public(sub), nil
}

// setChoice writes a new choice for sub; the caller audits.
func (s *Service) setChoice(tx *store.Tx, sub *gateway.Subscriber, ch choice) error {
	sub.AllComponents, sub.ComponentIDs, sub.GroupIDs = ch.all, ch.components, ch.groups
	return tx.SetSubscriptions(sub.ID, ch.all, ch.components, ch.groups)
}

// Unsubscribe ends a subscription by the token of its unsubscribe link
// (or its manage link, whose page offers to leave too), at once: nothing
// more is planned for it, and an email address goes on the suppression
// list (reason unsubscribe), so that deliveries already planned are
// suppressed at sending. It is idempotent: unsubscribing again, or a
// disabled subscriber, is no error. Errors as Confirm's for links.
func (s *Service) Unsubscribe(ctx context.Context, token string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		sub, err := s.bySubscriberToken(tx, token, purposeUnsubscribe, purposeManage)
		if err != nil {
			return err
		}
		return s.unsubscribe(tx, subscriberActor, sub, "unsubscribed by the subscriber")
	})
}

func (s *Service) unsubscribe(tx *store.Tx, who gateway.Principal, sub *gateway.Subscriber, detail string) error {
	if sub.Kind == gateway.SubscriberEmail {
		if err := tx.Suppress(sub.Address, "unsubscribe", detail); err != nil {
			return err
		}
	}
	if sub.Status != gateway.SubscriberPending && sub.Status != gateway.SubscriberActive {
		return nil
	}
	sub.Status, sub.UnsubscribedAt = gateway.SubscriberUnsubscribed, s.o.Now()
	if err := tx.SaveSubscriber(sub); err != nil {
		return err
	}
	return tx.Audit(who, "subscriber.unsubscribe", "subscriber", sub.ID, nil)
}

// Suppression reasons.
const (
	ReasonBounce      = "bounce"
	ReasonComplaint   = "complaint"
	ReasonUnsubscribe = "unsubscribe"
	ReasonFailures    = "failures"
	ReasonManual      = "manual"
)

// Suppress puts an email address on the suppression list, which every
// send respects (the planner plans nothing for it, the dispatcher
// suppresses what was planned), and stops its subscriber if there is one:
// unsubscribed for reason unsubscribe, else disabled with the reason and
// detail shown as its DisabledReason. Bounce and complaint handlers call
// it. reason is one of bounce, complaint, unsubscribe, failures, manual
// (EUNPROCESSABLE "reason" otherwise); the address is normalized first
// (EUNPROCESSABLE "email" when it is not one).
func (s *Service) Suppress(ctx context.Context, address, reason, detail string) error {
	switch reason {
	case ReasonBounce, ReasonComplaint, ReasonUnsubscribe, ReasonFailures, ReasonManual:
	default:
		return gateway.FieldError("reason", "must be bounce, complaint, unsubscribe, failures or manual")
	}
	addr, err := NormalizeEmail(address)
	if err != nil {
		return err
	}
	// Suppressions outlive erasure by keeping no address: keep it out of
	// the detail too (bounce reports quote it).
	detail = strings.NewReplacer(addr, "<address>", strings.TrimSpace(address), "<address>").Replace(detail)
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.Suppress(addr, reason, detail); err != nil {
			return err
		}
		sub, err := tx.LockSubscriberByAddress(gateway.SubscriberEmail, addr)
		if err != nil || sub == nil {
			return err
		}
		if reason == ReasonUnsubscribe {
			return s.unsubscribe(tx, gateway.Automation, sub, detail)
		}
		sub.Status, sub.DisabledReason = gateway.SubscriberDisabled, reason
		if detail != "" {
			sub.DisabledReason += ": " + detail
		}
		if err := tx.SaveSubscriber(sub); err != nil {
			return err
		}
		return tx.Audit(gateway.Automation, "subscriber.disable", "subscriber", sub.ID, map[string]any{"reason": reason})
	})
}

// RevokeLinks gives a subscriber a new token nonce: every manage,
// unsubscribe and confirmation link sent so far stops working, and
// messages from now on carry new ones. ENOTFOUND for an unknown id.
func (s *Service) RevokeLinks(ctx context.Context, who gateway.Principal, id string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		sub, err := tx.LockSubscriber(id)
		if err != nil {
			return err
		}
		sub.TokenNonce = newNonce()
		if err := tx.SaveSubscriber(sub); err != nil {
			return err
		}
		return tx.Audit(who, "subscriber.revoke_links", "subscriber", id, nil)
	})
}
