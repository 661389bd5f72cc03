package gateway

import "time"

// SubscriberKind is how a subscriber is reached.
type SubscriberKind string

// Subscriber kinds; each is also the delivery channel of its messages.
// These two have behaviour of their own (double opt-in and suppression
// for email; format and signing secret for webhooks); the list of every
// kind is gateway/channels'.
const (
	SubscriberEmail   SubscriberKind = "email"
	SubscriberWebhook SubscriberKind = "webhook"
)

// SubscriberStatus is where a subscriber is in its life.
type SubscriberStatus string

// Subscriber statuses. Only active subscribers receive notifications;
// pending ones receive their confirmation mail and nothing else.
const (
	SubscriberPending      SubscriberStatus = "pending"
	SubscriberActive       SubscriberStatus = "active"
	SubscriberUnsubscribed SubscriberStatus = "unsubscribed"
	SubscriberDisabled     SubscriberStatus = "disabled"
)

// WebhookFormat is the body shape a webhook subscriber receives.
type WebhookFormat string

// Webhook body formats.
const (
	FormatStatuspage WebhookFormat = "statuspage" // Statuspage's subscriber webhook shape (default)
	FormatSlack      WebhookFormat = "slack"      // a Slack incoming-webhook message
	FormatGeneric    WebhookFormat = "generic"    // Herald's own versioned JSON
)

// Subscriber is a person (email) or system (webhook) that receives
// notifications about the components it chose, or all of them.
type Subscriber struct {
	ID      string           `json:"id"`
	Kind    SubscriberKind   `json:"kind"`
	Address string           `json:"address"` // normalized email address or webhook URL
	Format  WebhookFormat    `json:"format,omitempty"`
	Status  SubscriberStatus `json:"status"`
	// Secret is a webhook's signing secret (whsec_…) in plain text; the
	// store keeps it encrypted and it is shown to the subscriber once.
	Secret        string   `json:"-"`
	AllComponents bool     `json:"all_components"`
	ComponentIDs  []string `json:"component_ids"`
	GroupIDs      []string `json:"group_ids"`
	// TokenNonce enters the HMAC of the subscriber's manage and unsubscribe
	// links; replacing it revokes every link sent so far.
	TokenNonce        string    `json:"-"`
	ConsentSource     string    `json:"consent_source,omitempty"`
	DisabledReason    string    `json:"disabled_reason,omitempty"`
	PermanentFailures int       `json:"permanent_failures"`
	ConfirmedAt       time.Time `json:"confirmed_at,omitzero"`
	UnsubscribedAt    time.Time `json:"unsubscribed_at,omitzero"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// Redacted returns sub as those who are not admins see it: a webhook's
// URL cut to scheme://host/… (see RedactURL), since it is often the
// hook's only secret (a Slack or Teams incoming webhook's path). Every
// kind but email is a target staff added, whose address may be as secret,
// so each is cut the same way (an address that is not a URL shows as …),
// without a list to keep up with the channels. An email subscriber is
// returned as it is.
func (s Subscriber) Redacted() Subscriber {
	if s.Kind != SubscriberEmail {
		s.Address = RedactURL(s.Address)
	}
	return s
}

// Channel is how a delivery travels.
type Channel string

// Channels with behaviour of their own; gateway/channels lists them all.
const (
	ChannelEmail   Channel = "email"
	ChannelWebhook Channel = "webhook"
)

// DeliveryStatus is a delivery's place in the queue.
type DeliveryStatus string

// Delivery statuses: queued → sending → sent | retrying → … → dead; plus
// suppressed (the address is on the suppression list) and cancelled.
const (
	DeliveryQueued     DeliveryStatus = "queued"
	DeliverySending    DeliveryStatus = "sending"
	DeliverySent       DeliveryStatus = "sent"
	DeliveryRetrying   DeliveryStatus = "retrying"
	DeliveryDead       DeliveryStatus = "dead"
	DeliverySuppressed DeliveryStatus = "suppressed"
	DeliveryCancelled  DeliveryStatus = "cancelled"
)

// Delivery is one message of one event to one subscriber on one channel:
// the unit of the queue, unique per (event, subscriber, channel).
type Delivery struct {
	ID            int64          `json:"id"`
	EventID       string         `json:"event_id"`
	SubscriberID  string         `json:"subscriber_id"`
	Channel       Channel        `json:"channel"`
	Status        DeliveryStatus `json:"status"`
	Attempts      int            `json:"attempts"`
	NextAttemptAt time.Time      `json:"next_attempt_at"`
	LeaseUntil    time.Time      `json:"lease_until,omitzero"`
	LastCode      int            `json:"last_code"`
	LastError     string         `json:"last_error"`
	SentAt        time.Time      `json:"sent_at,omitzero"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
}

// AttemptOutcome classifies one attempt.
type AttemptOutcome string

// Attempt outcomes.
const (
	AttemptSent      AttemptOutcome = "sent"
	AttemptTemporary AttemptOutcome = "temporary" // retried with backoff
	AttemptPermanent AttemptOutcome = "permanent" // dead at once
)

// Attempt records one try of a delivery.
type Attempt struct {
	ID          int64          `json:"id"`
	DeliveryID  int64          `json:"delivery_id"`
	AttemptedAt time.Time      `json:"attempted_at"`
	Duration    time.Duration  `json:"duration_ms"`
	Outcome     AttemptOutcome `json:"outcome"`
	Code        int            `json:"code"` // SMTP reply code or HTTP status; 0 when none came
	Error       string         `json:"error,omitempty"`
	Response    string         `json:"response,omitempty"` // capped
}
