package subscribers

import (
	"context"
	"strings"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/channels"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/store"
)

// kindError is the answer to a kind no channel has; the list is the
// registry's, so that a new channel needs no edit here.
func kindError() error {
	return gateway.FieldError("kind", "must be "+channels.KindsText())
}

// subscribeTarget is Subscribe for a channel other than email and webhook
// (see gateway/channels): a target staff add, like a webhook, so active at
// once (nothing can click a link), its address checked and normalized by
// the channel's notify.Channel.Address. A target subscribed already is
// ECONFLICT.
func (s *Service) subscribeTarget(ctx context.Context, r SubscribeRequest, c notify.Channel) (*gateway.Subscriber, error) {
	switch {
	case r.IP != "":
		return nil, gateway.Errorf(gateway.EFORBIDDEN, "Only staff may add a %s subscriber.", r.Kind)
	case r.Email != "" || r.URL != "":
		return nil, gateway.FieldError("address", "gives a "+string(r.Kind)+" subscriber's target; email and url are for the email and webhook kinds")
	case r.Format != "":
		return nil, gateway.FieldError("format", "applies to webhook subscribers only")
	case r.Secret != "":
		return nil, gateway.FieldError("secret", "applies to webhook subscribers only")
	}
	addr := strings.TrimSpace(r.Address)
	var err error
	if c.Address != nil {
		if addr, err = c.Address(ctx, r.Address); err != nil {
			return nil, err
		}
	}
	switch {
	case addr == "":
		return nil, gateway.FieldError("address", "is required")
	case len(addr) > MaxURLLength:
		return nil, gateway.FieldError("address", "is longer than 2048 characters")
	}
	if err := checkConsent(false, r.ConsentSource); err != nil {
		return nil, err
	}
	ch, err := s.resolveChoice(ctx, r.All, r.Components, r.Groups)
	if err != nil {
		return nil, err
	}
	sub := &gateway.Subscriber{Kind: r.Kind, Address: addr, Status: gateway.SubscriberActive, ConfirmedAt: s.o.Now(),
		TokenNonce: newNonce(), ConsentSource: r.ConsentSource, AllComponents: ch.all, ComponentIDs: ch.components, GroupIDs: ch.groups}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		created, err := tx.InsertSubscriber(sub)
		if err != nil {
			return err
		}
		if !created {
			return &gateway.Error{Code: gateway.ECONFLICT, Message: "address: this address is subscribed already",
				Fields: map[string]string{"address": "is subscribed already"}}
		}
		return tx.Audit(actorOr(r.Actor), "subscriber.create", "subscriber", sub.ID, map[string]any{
			"kind": sub.Kind, "status": sub.Status})
	})
	if err != nil {
		return nil, err
	}
	return sub, nil
}
