package subscribers

import (
	"cmp"
	"context"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/channels"
	"github.com/heraldstatus/herald/gateway/netguard"
	"github.com/heraldstatus/herald/gateway/ratelimit"
	"github.com/heraldstatus/herald/gateway/store"
)

// Options configure a Service.
type Options struct {
	// Key signs links and seals webhook secrets (see LoadKey). Required.
	Key []byte
	// PublicURL is the absolute base of the links in messages, without a
	// trailing slash (config public_url).
	PublicURL string
	// Page names the status page in confirmation messages.
	Page gateway.PageInfo
	Log  *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// AllowPrivateTargets lets webhook URLs reach loopback and private
	// addresses (HERALD_ALLOW_PRIVATE_TARGETS; tests and labs).
	AllowPrivateTargets bool
	// Resolver resolves webhook hosts for the SSRF check; net.DefaultResolver
	// when nil.
	Resolver netguard.Resolver
	// ConfirmTTL is how long a confirmation link stays valid (default 7 days).
	ConfirmTTL time.Duration
	// ConfirmEvery is the wait after the first confirmation mail to an
	// address before another; it doubles with each one (default 2 minutes).
	ConfirmEvery time.Duration
	// IPBurst and IPEvery limit the public forms per client address:
	// IPBurst requests at once, then one every IPEvery (defaults 10 and
	// 1 minute).
	IPBurst int
	IPEvery time.Duration
	// Wake, when set, is called after a confirmation event was committed,
	// so the dispatcher plans and sends it now rather than at its next
	// poll (notify.Dispatcher.Wake).
	Wake func()
}

// Service is the subscriber domain over a store: subscribe with double
// opt-in, confirm, manage and unsubscribe by link, suppression, the admin
// operations, import and export. It is safe for concurrent use.
type Service struct {
	st   *store.Store
	o    Options
	log  *slog.Logger
	keys keys
	ips  *ratelimit.Keyed
}

// New returns a service over st and installs its secret box on st, so
// that the store seals webhook secrets when it writes them and opens them
// when the dispatcher loads them. It panics when o.Key is shorter than
// MinKeyLength: that is a wiring mistake, and LoadKey always gives one.
func New(st *store.Store, o Options) *Service {
	if len(o.Key) < MinKeyLength {
		panic("subscribers.New: Options.Key is missing or short; get it from LoadKey")
	}
	k, err := deriveKeys(o.Key)
	if err != nil {
		panic(err) // only for a key AES refuses, which derived keys never are
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	o.ConfirmTTL = orDefault(o.ConfirmTTL, 7*24*time.Hour)
	o.ConfirmEvery = orDefault(o.ConfirmEvery, 2*time.Minute)
	o.IPEvery = orDefault(o.IPEvery, time.Minute)
	if o.IPBurst <= 0 {
		o.IPBurst = 10
	}
	st.SetSecretBox(k.box)
	return &Service{st: st, o: o, log: o.Log, keys: k, ips: ratelimit.New(ratelimit.Limit{Burst: o.IPBurst, Every: o.IPEvery}, 0)}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// SubscribeRequest asks for a subscription by email, webhook, or another
// channel of gateway/channels.
type SubscribeRequest struct {
	// Email or URL (with Format) says who is subscribing: exactly one.
	// Or Kind and Address: Address is then the email address or URL of
	// those kinds, or the target of another channel (see subscribeTarget).
	Email   string
	URL     string
	Kind    gateway.SubscriberKind
	Address string
	Format  gateway.WebhookFormat
	// Secret is a webhook's own signing secret (whsec_…); empty generates one.
	Secret string
	// All, or nothing chosen, is the whole page; else Components and
	// Groups, each an id or an exact name.
	All        bool
	Components []string
	Groups     []string
	// IP is the client's address on the public forms, for the rate limits;
	// "" from trusted callers (the admin API, the CLI).
	IP string
	// Confirmed skips double opt-in: for admins only (never with an IP),
	// and ConsentSource must say where the consent was given.
	Confirmed     bool
	ConsentSource string
	// Actor is recorded in the audit log; zero means the subscriber.
	Actor gateway.Principal
}

// subscriberActor is the principal of what subscribers do themselves.
var subscriberActor = gateway.Principal{Kind: "subscriber", Name: "subscriber"}

func actorOr(p gateway.Principal) gateway.Principal {
	if p.Name == "" {
		return subscriberActor
	}
	return p
}

// Subscribe subscribes an email address or a webhook.
//
// Email is double opt-in: the subscriber is written pending with a
// subscriber.confirm event (Payload.ConfirmURL) in the same transaction,
// and gets nothing else until it confirms. Subscribing a known address
// again sends the confirmation again (at most one per ConfirmEvery,
// doubling; see confirmWait) and, for a pending or unsubscribed one, takes
// the new choice of components; an active one keeps its choice (a stranger
// must not change it) and a disabled one gets nothing. With an IP, the
// answer is the same whether the address was known or not: a receipt with
// the normalized address, status pending and the choice, and no id. From
// trusted callers (no IP) it is the stored subscriber. Confirmed (admins)
// makes the subscriber active at once, recording ConsentSource.
//
// A webhook is active at once (nothing can click a link), its URL checked
// against the SSRF rule; the answer carries its plain Secret, which is
// shown this once. A URL subscribed already is ECONFLICT.
//
// Errors: ERATELIMITED for an IP over its allowance, EUNPROCESSABLE naming
// the field (email, url, format, secret, components, groups,
// consent_source), EFORBIDDEN for Confirmed with an IP.
func (s *Service) Subscribe(ctx context.Context, r SubscribeRequest) (*gateway.Subscriber, error) {
	if r.IP != "" {
		if r.Confirmed {
			return nil, gateway.Errorf(gateway.EFORBIDDEN, "Only an admin may subscribe someone as already confirmed.")
		}
		if err := s.AllowIP(r.IP); err != nil {
			return nil, err
		}
	}
	// Kind and Address name any channel; email and webhook then go on
	// as if given by their own fields.
	if r.Kind != "" || r.Address != "" {
		c, ok := channels.Lookup(r.Kind)
		switch {
		case r.Kind == "":
			return nil, gateway.FieldError("kind", "is required with address")
		case !ok:
			return nil, kindError()
		case r.Kind == gateway.SubscriberEmail && r.URL != "":
			return nil, gateway.FieldError("url", "applies to webhook subscribers only")
		case r.Kind == gateway.SubscriberWebhook && r.Email != "":
			return nil, gateway.FieldError("email", "applies to email subscribers only")
		case r.Kind == gateway.SubscriberEmail:
			r.Email = cmp.Or(r.Email, r.Address)
		case r.Kind == gateway.SubscriberWebhook:
			r.URL = cmp.Or(r.URL, r.Address)
		default:
			return s.subscribeTarget(ctx, r, c)
		}
	}
	switch {
	case r.Email != "" && r.URL != "":
		return nil, gateway.FieldError("email", "give an email address or a webhook URL, not both")
	case r.URL != "":
		return s.subscribeWebhook(ctx, r)
	}
	addr, err := NormalizeEmail(r.Email)
	if err != nil {
		return nil, err
	}
	ch, err := s.resolveChoice(ctx, r.All, r.Components, r.Groups)
	if err != nil {
		return nil, err
	}
	if err := checkConsent(r.Confirmed, r.ConsentSource); err != nil {
		return nil, err
	}
	var stored *gateway.Subscriber
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		stored, err = s.subscribeEmail(tx, r, addr, ch)
		return err
	})
	if err != nil {
		return nil, s.auditRefusal(ctx, actorOr(r.Actor), "subscriber.subscribe", err)
	}
	s.wake()
	if r.IP == "" {
		return stored, nil
	}
	return &gateway.Subscriber{Kind: gateway.SubscriberEmail, Address: addr, Status: gateway.SubscriberPending,
		AllComponents: ch.all, ComponentIDs: ch.components, GroupIDs: ch.groups}, nil
}

// checkConsent requires a consent source for a confirmed subscription.
func checkConsent(confirmed bool, source string) error {
	if strings.TrimSpace(source) == "" && confirmed {
		return gateway.FieldError("consent_source", "is required to add a subscriber as already confirmed")
	}
	if len(source) > 200 || strings.ContainsFunc(source, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return gateway.FieldError("consent_source", "must be one line of at most 200 characters")
	}
	return nil
}

// subscribeEmail is Subscribe's transaction for an email address.
func (s *Service) subscribeEmail(tx *store.Tx, r SubscribeRequest, addr string, ch choice) (*gateway.Subscriber, error) {
	now := s.o.Now()
	sub, err := tx.LockSubscriberByAddress(gateway.SubscriberEmail, addr)
	if err != nil {
		return nil, err
	}
	created := false
	if sub == nil && r.Confirmed {
		// A new row for an address that left (or bounced) before its
		// subscriber was erased: the suppression outlived it, and so
		// does the refusal.
		if reason, err := tx.Suppression(addr); err != nil || reason != "" {
			return nil, cmp.Or(err, refuse(&gateway.Subscriber{}, RuleSuppressed, "the address is on the suppression list ("+reason+"); only its owner can subscribe it again, by confirming."))
		}
	}
	if sub == nil {
		sub = &gateway.Subscriber{Kind: gateway.SubscriberEmail, Address: addr, Status: gateway.SubscriberPending,
			TokenNonce: newNonce(), AllComponents: ch.all, ComponentIDs: ch.components, GroupIDs: ch.groups}
		if r.Confirmed {
			sub.Status, sub.ConfirmedAt, sub.ConsentSource = gateway.SubscriberActive, now, r.ConsentSource
		}
		if created, err = tx.InsertSubscriber(sub); err != nil {
			return nil, err
		}
		if !created { // another request inserted it since we looked
			if sub, err = tx.LockSubscriberByAddress(gateway.SubscriberEmail, addr); err != nil || sub == nil {
				return nil, orInternal(err, "subscriber vanished during subscribe")
			}
		}
	}
	if !created {
		if err := s.repeatSubscribe(tx, sub, r, ch, now); err != nil {
			return nil, err
		}
	}
	// Pending or active alike get the confirmation again: the answer must
	// not depend on which, and an active subscriber who forgot has a way
	// back to its manage page (confirming an active one is a no-op).
	if (sub.Status == gateway.SubscriberPending || sub.Status == gateway.SubscriberActive) && !r.Confirmed {
		if err := s.sendConfirmation(tx, sub, now, actorOr(r.Actor)); err != nil {
			return nil, err
		}
	}
	action := "subscriber.subscribe"
	if created {
		action = "subscriber.create"
	}
	return sub, tx.Audit(actorOr(r.Actor), action, "subscriber", sub.ID, map[string]any{
		"kind": sub.Kind, "status": sub.Status, "confirmed": r.Confirmed, "consent_source": r.ConsentSource})
}

// repeatSubscribe applies a subscribe to an address that is known.
func (s *Service) repeatSubscribe(tx *store.Tx, sub *gateway.Subscriber, r SubscribeRequest, ch choice, now time.Time) error {
	if sub.Status == gateway.SubscriberDisabled {
		return nil // bounced or failing: support must look at it
	}
	switch {
	case r.Confirmed && sub.Status != gateway.SubscriberActive:
		// "Confirmed" adds someone new whose consent was given elsewhere;
		// it never overrides what this subscriber did or did not do here.
		reason, err := tx.Suppression(sub.Address)
		if err != nil {
			return err
		}
		return checkActivation(sub, reason)
	case r.Confirmed:
		sub.ConsentSource = r.ConsentSource
	case sub.Status == gateway.SubscriberActive:
		return nil // keeps its choice; only the confirmation goes out again
	case sub.Status == gateway.SubscriberUnsubscribed:
		sub.Status, sub.UnsubscribedAt = gateway.SubscriberPending, time.Time{}
	}
	// A deliberate new subscription lifts an unsubscribe (not a bounce or
	// a complaint), or the confirmation could never arrive.
	if _, err := tx.Unsuppress(sub.Address, "unsubscribe"); err != nil {
		return err
	}
	sub.AllComponents, sub.ComponentIDs, sub.GroupIDs = ch.all, ch.components, ch.groups
	if err := tx.SaveSubscriber(sub); err != nil {
		return err
	}
	return tx.SetSubscriptions(sub.ID, ch.all, ch.components, ch.groups)
}

// sendConfirmation writes a confirmation event for sub unless the address
// had one too recently (silently: the caller's answer must not tell).
func (s *Service) sendConfirmation(tx *store.Tx, sub *gateway.Subscriber, now time.Time, who gateway.Principal) error {
	wait, err := tx.ClaimConfirmation(sub.ID, now, s.confirmWait)
	if err != nil || wait > 0 {
		if err == nil {
			s.log.Info("confirmation not sent again yet: rate limit per address", "subscriber_id", sub.ID)
		}
		return err
	}
	return tx.AddEvent(s.confirmEvent(sub, who))
}

// confirmEvent is the double opt-in message for sub.
func (s *Service) confirmEvent(sub *gateway.Subscriber, who gateway.Principal) *gateway.Event {
	return &gateway.Event{Type: gateway.EventSubscriberConfirm, SubscriberID: sub.ID, Notify: true, Actor: who.Name,
		Payload: gateway.EventPayload{Page: s.o.Page, ConfirmURL: s.ConfirmLink(sub)}}
}

// wake tells the dispatcher that an event may be waiting.
func (s *Service) wake() {
	if s.o.Wake != nil {
		s.o.Wake()
	}
}

// orInternal returns err, or an internal error saying what when err is nil.
func orInternal(err error, what string) error {
	if err != nil {
		return err
	}
	return &gateway.Error{Code: gateway.EINTERNAL, Message: what}
}
