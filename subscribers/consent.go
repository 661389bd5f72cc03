package subscribers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// Consent is the subscriber's. No admin, support, console or CLI path
// makes an unsubscribed, suppressed, bounced or never-confirmed
// subscriber active: only the person's own click on a confirmation link
// does (Confirm). Support may send a fresh confirmation (Reconfirm), which
// is rate-limited per address like every confirmation. The one change to
// active that staff may make is to resume a subscriber that staff paused
// (status disabled by hand) after it had confirmed. Every attempt, allowed
// or refused, is in the audit log.

// Consent rules, named in refusals and in the audit log.
const (
	RuleUnsubscribed   = "unsubscribed"    // they left; only their click brings them back
	RuleNeverConfirmed = "never_confirmed" // double opt-in was never completed
	RuleSuppressed     = "suppressed"      // the address is on the suppression list
	RuleDisabled       = "disabled"        // Herald stopped it (bounce, complaint, failures)
	RuleNoConfirmation = "no_confirmation" // a webhook has no confirmation to send
	RuleActive         = "already_active"  // nothing to confirm
)

// pausedPrefix starts the DisabledReason of a subscriber that staff
// disabled by hand (setStatus); it is the only disabled state staff may
// undo.
const pausedPrefix = "manual: disabled by "

// ConsentError is a refusal under a consent rule. It is an ECONFLICT
// gateway.Error whose message names the rule; errors.As finds it.
type ConsentError struct {
	Rule         string
	SubscriberID string
}

func (e *ConsentError) Error() string { return "consent rule " + e.Rule }

// refuse builds the ECONFLICT answer for rule, with what to do instead.
func refuse(sub *gateway.Subscriber, rule, why string) error {
	return &gateway.Error{Code: gateway.ECONFLICT, Err: &ConsentError{Rule: rule, SubscriberID: sub.ID},
		Message: fmt.Sprintf("Refused by the consent rule %q: %s", rule, why)}
}

const sendFresh = " Send a fresh confirmation (reconfirm) instead: only the person's click makes them active."

// checkActivation says whether staff may make sub active; suppression is
// the address's suppression reason ("" when none).
func checkActivation(sub *gateway.Subscriber, suppression string) error {
	switch {
	case suppression != "":
		return refuse(sub, RuleSuppressed, fmt.Sprintf("the address is on the suppression list (%s) and is never mailed again unless its owner subscribes and confirms.", suppression))
	case sub.Status == gateway.SubscriberUnsubscribed:
		return refuse(sub, RuleUnsubscribed, "this subscriber unsubscribed."+sendFresh)
	case sub.Status == gateway.SubscriberPending:
		return refuse(sub, RuleNeverConfirmed, "this subscriber has not confirmed; a consent_source does not stand in for the click."+sendFresh)
	case sub.Status == gateway.SubscriberDisabled && (!strings.HasPrefix(sub.DisabledReason, pausedPrefix) || sub.ConfirmedAt.IsZero()):
		return refuse(sub, RuleDisabled, "Herald disabled this subscriber ("+sub.DisabledReason+"); only a subscriber that staff paused by hand may be resumed.")
	}
	return nil
}

// suppressionOf returns sub's suppression reason inside tx ("" for a
// webhook or an address not on the list).
func suppressionOf(tx *store.Tx, sub *gateway.Subscriber) (string, error) {
	if sub.Kind != gateway.SubscriberEmail {
		return "", nil
	}
	return tx.Suppression(sub.Address)
}

// auditRefusal records a consent refusal in its own write: the
// transaction that was refused has rolled back, and the attempt must
// still be on record. err is returned as it is.
func (s *Service) auditRefusal(ctx context.Context, who gateway.Principal, action string, err error) error {
	var ce *ConsentError
	if !errors.As(err, &ce) {
		return err
	}
	if aerr := s.st.Audit(ctx, who, action+".refused", "subscriber", ce.SubscriberID, map[string]any{"rule": ce.Rule}); aerr != nil {
		s.log.Error("audit a consent refusal", "err", aerr, "subscriber_id", ce.SubscriberID)
	}
	return err
}

// Reconfirm sends subscriber id a fresh confirmation mail, on staff's
// request (someone asked to be added back). It does not make anyone
// active: an unsubscribed or paused subscriber becomes pending (its
// unsubscribe suppression lifted so that the mail can arrive), and only
// the person's click on the link activates it. Each address gets
// confirmations at most as often as the public form allows
// (ERATELIMITED with RetryAfter otherwise). Refusals are ECONFLICT with a
// *ConsentError: a webhook (nothing to click), an active subscriber, or
// an address suppressed for a bounce, a complaint, repeated failures or
// by hand. Every attempt is audited (subscriber.reconfirm, or
// subscriber.reconfirm.refused with the rule).
func (s *Service) Reconfirm(ctx context.Context, who gateway.Principal, id string) (*gateway.Subscriber, error) {
	var sub *gateway.Subscriber
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if sub, err = tx.LockSubscriber(id); err != nil {
			return err
		}
		if sub.Kind != gateway.SubscriberEmail {
			return refuse(sub, RuleNoConfirmation, "a "+string(sub.Kind)+" subscriber has no confirmation link to click.")
		}
		if sub.Status == gateway.SubscriberActive {
			return refuse(sub, RuleActive, "this subscriber is active already.")
		}
		reason, err := tx.Suppression(sub.Address)
		if err != nil {
			return err
		}
		if reason != "" && reason != ReasonUnsubscribe {
			return refuse(sub, RuleSuppressed, fmt.Sprintf("the address is on the suppression list (%s); Herald never mails it again.", reason))
		}
		if sub.Status == gateway.SubscriberDisabled && !strings.HasPrefix(sub.DisabledReason, pausedPrefix) {
			return refuse(sub, RuleDisabled, "Herald disabled this subscriber ("+sub.DisabledReason+").")
		}
		now := s.o.Now()
		wait, err := tx.ClaimConfirmation(sub.ID, now, s.confirmWait)
		if err != nil {
			return err
		}
		if wait > 0 {
			return &gateway.Error{Code: gateway.ERATELIMITED, RetryAfter: wait,
				Message: "A confirmation went to this address recently; the next may go out later (the wait doubles with each one)."}
		}
		from := sub.Status
		if _, err := tx.Unsuppress(sub.Address, ReasonUnsubscribe); err != nil {
			return err
		}
		sub.Status, sub.DisabledReason = gateway.SubscriberPending, ""
		if err := tx.SaveSubscriber(sub); err != nil {
			return err
		}
		if err := tx.AddEvent(s.confirmEvent(sub, who)); err != nil {
			return err
		}
		return tx.Audit(who, "subscriber.reconfirm", "subscriber", sub.ID, map[string]any{"from": from})
	})
	if gateway.ErrorCode(err) == gateway.ERATELIMITED {
		if aerr := s.st.Audit(ctx, who, "subscriber.reconfirm.refused", "subscriber", id, map[string]any{"rule": "rate_limit"}); aerr != nil {
			s.log.Error("audit a reconfirm refusal", "err", aerr, "subscriber_id", id)
		}
	}
	if err != nil {
		return nil, s.auditRefusal(ctx, who, "subscriber.reconfirm", err)
	}
	s.wake()
	return public(sub), nil
}
