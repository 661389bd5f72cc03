package subscribers

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/netguard"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/gateway/store"
)

// MaxURLLength bounds a webhook URL.
const MaxURLLength = 2048

// CheckWebhookURL validates a webhook target and returns it trimmed: an
// absolute http or https URL of at most MaxURLLength characters, with a
// host, no credentials and no fragment, whose host resolves only to
// addresses the SSRF rule allows (netguard.CheckURL; loopback, private,
// link-local and metadata addresses are refused unless allowPrivate).
// Errors are EUNPROCESSABLE naming the field "url"; a host that does not
// resolve is one too, since a subscription that can never be delivered is
// a mistake worth telling now.
func CheckWebhookURL(ctx context.Context, raw string, allowPrivate bool, r netguard.Resolver) (string, error) {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return "", gateway.FieldError("url", "is required")
	case len(s) > MaxURLLength:
		return "", gateway.FieldError("url", "is longer than 2048 characters")
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r <= 0x20 || r == 0x7f }):
		return "", gateway.FieldError("url", "must not contain spaces or control characters")
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return "", gateway.FieldError("url", "must be an absolute http:// or https:// URL")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return "", gateway.FieldError("url", "must not have a #fragment")
	}
	if err := netguard.CheckURL(ctx, s, allowPrivate, r); err != nil {
		if errors.Is(err, netguard.ErrForbidden) {
			return "", &gateway.Error{Code: gateway.EUNPROCESSABLE, Err: err, Fields: map[string]string{"url": "targets an address webhooks may not reach"},
				Message: "url: targets an address webhooks may not reach (loopback, private, link-local or metadata)"}
		}
		return "", &gateway.Error{Code: gateway.EUNPROCESSABLE, Err: err, Fields: map[string]string{"url": "has a host that does not resolve"},
			Message: "url: has a host that does not resolve"}
	}
	return s, nil
}

// checkFormat returns a webhook body format, statuspage when empty.
func checkFormat(f gateway.WebhookFormat) (gateway.WebhookFormat, error) {
	switch f {
	case "":
		return gateway.FormatStatuspage, nil
	case gateway.FormatStatuspage, gateway.FormatSlack, gateway.FormatGeneric:
		return f, nil
	}
	return "", gateway.FieldError("format", "must be statuspage, slack or generic")
}

// checkSecret validates a caller's own signing secret: whsec_ and base64
// of at least 16 bytes, as the Standard Webhooks spec has it.
func checkSecret(secret string) error {
	if _, err := webhook.Sign(secret, "check", time.Unix(0, 0), nil); err != nil {
		return gateway.FieldError("secret", "must be whsec_ followed by the base64 of at least 16 random bytes")
	}
	return nil
}

// subscribeWebhook is Subscribe for a URL.
func (s *Service) subscribeWebhook(ctx context.Context, r SubscribeRequest) (*gateway.Subscriber, error) {
	target, err := CheckWebhookURL(ctx, r.URL, s.o.AllowPrivateTargets, s.o.Resolver)
	if err != nil {
		return nil, err
	}
	format, err := checkFormat(r.Format)
	if err != nil {
		return nil, err
	}
	secret := r.Secret
	if secret == "" {
		secret = webhook.NewSecret()
	} else if err := checkSecret(secret); err != nil {
		return nil, err
	}
	if err := checkConsent(false, r.ConsentSource); err != nil {
		return nil, err
	}
	ch, err := s.resolveChoice(ctx, r.All, r.Components, r.Groups)
	if err != nil {
		return nil, err
	}
	sealed, err := s.st.SealSecret(secret)
	if err != nil {
		return nil, err
	}
	sub := &gateway.Subscriber{Kind: gateway.SubscriberWebhook, Address: target, Format: format, Secret: sealed,
		Status: gateway.SubscriberActive, ConfirmedAt: s.o.Now(), TokenNonce: newNonce(), ConsentSource: r.ConsentSource,
		AllComponents: ch.all, ComponentIDs: ch.components, GroupIDs: ch.groups}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		created, err := tx.InsertSubscriber(sub)
		if err != nil {
			return err
		}
		if !created {
			return &gateway.Error{Code: gateway.ECONFLICT, Message: "url: this URL is subscribed already",
				Fields: map[string]string{"url": "is subscribed already"}}
		}
		return tx.Audit(actorOr(r.Actor), "subscriber.create", "subscriber", sub.ID, map[string]any{
			"kind": sub.Kind, "format": sub.Format, "status": sub.Status})
	})
	if err != nil {
		return nil, err
	}
	sub.Secret = secret
	return sub, nil
}

// RotateSecret gives a webhook subscriber a new signing secret and returns
// the subscriber with it in plain text, shown this once; the old secret
// stops signing at once. ENOTFOUND for an unknown id, EUNPROCESSABLE for
// an email subscriber.
func (s *Service) RotateSecret(ctx context.Context, who gateway.Principal, id string) (*gateway.Subscriber, error) {
	secret := webhook.NewSecret()
	sealed, err := s.st.SealSecret(secret)
	if err != nil {
		return nil, err
	}
	var sub *gateway.Subscriber
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if sub, err = tx.LockSubscriber(id); err != nil {
			return err
		}
		if sub.Kind != gateway.SubscriberWebhook {
			kind := "an email"
			if sub.Kind != gateway.SubscriberEmail {
				kind = "a " + string(sub.Kind)
			}
			return gateway.FieldError("id", "is "+kind+" subscriber; only webhooks have a signing secret")
		}
		sub.Secret = sealed
		if err := tx.SaveSubscriber(sub); err != nil {
			return err
		}
		return tx.Audit(who, "subscriber.rotate_secret", "subscriber", sub.ID, nil)
	})
	if err != nil {
		return nil, err
	}
	sub.Secret = secret
	return sub, nil
}
