// Package notify delivers events to subscribers: the planner turns an event
// into delivery rows, the dispatcher claims due rows from the queue (the
// deliveries table) and hands each to the channel of its subscriber, and
// owns retries, backoff and rate limits. Channels live in subpackages
// (notify/email, notify/webhook) and implement Notifier.
package notify

import (
	"context"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// Message is one delivery, ready for its channel: the event with its
// snapshot, the subscriber, and the subscriber's personal links.
type Message struct {
	// DeliveryID is stable across retries; channels derive the email
	// Message-ID and the webhook-id from it, so a receiver can deduplicate.
	DeliveryID int64
	Event      *gateway.Event
	Subscriber *gateway.Subscriber
	// ManageURL and UnsubscribeURL carry the subscriber's tokens (never ids).
	ManageURL      string
	UnsubscribeURL string
}

// Result is what one attempt produced.
type Result struct {
	// Code is the SMTP reply code or HTTP status, 0 when none came back.
	Code int
	// Response is the start of the receiver's answer, capped by the channel.
	Response string
	// RetryAfter is the receiver's own wish (HTTP Retry-After, bounded by
	// the dispatcher); zero when it said nothing.
	RetryAfter time.Duration
	// Gone reports a receiver that asked never to be sent to again (HTTP 410,
	// an SMTP mailbox that does not exist): the dispatcher disables or
	// suppresses the subscriber.
	Gone bool
	// ChannelDown reports a failure of the channel's own service, not of
	// this recipient: the SMTP server could not be reached, refused the
	// login, or went away mid-transaction. The dispatcher then gives the
	// delivery back without counting the attempt against its retry
	// schedule, pauses the channel and probes it (one delivery at a time,
	// with capped backoff) until it works again.
	ChannelDown bool
	// Deferred reports that nothing was sent because the channel has no
	// room for this receiver now (a webhook host with every slot taken and
	// as many requests waiting): the delivery goes back to the queue,
	// uncounted and without an attempt logged, due again after RetryAfter
	// (at least a second), and the worker moves on to other receivers
	// instead of waiting in line.
	Deferred bool
}

// Notifier sends one message on one channel. It returns retry=true when a
// failure is worth retrying (SMTP 4xx, HTTP 408/429/5xx, timeouts,
// connection and DNS errors) and retry=false when it is permanent (SMTP 5xx,
// other HTTP 4xx, redirects); err is nil on success. The dispatcher, not the
// channel, decides when to retry.
type Notifier interface {
	Notify(ctx context.Context, m *Message) (res Result, retry bool, err error)
}
