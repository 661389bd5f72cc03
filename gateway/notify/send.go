package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// deliver sends one claimed delivery, unless it should no longer go out,
// and returns its outcome. It never fails: every problem is an outcome.
func (d *Dispatcher) deliver(ctx context.Context, ch gateway.Channel, n Notifier, b batch, del gateway.Delivery) store.Completion {
	c := store.Completion{DeliveryID: del.ID, Owner: b.owner, SubscriberID: del.SubscriberID}
	ev, r := b.events[del.EventID], b.recipients[del.SubscriberID]
	if skip, note := d.skip(del, ev, r); skip != "" {
		c.Status, c.Note = skip, note
		d.count(ch, "", skip)
		return c
	}
	m := &Message{DeliveryID: del.ID, Event: ev, Subscriber: &r.Subscriber}
	if d.Links != nil {
		m.ManageURL, m.UnsubscribeURL = d.Links(&r.Subscriber)
	}
	at, start := d.Now(), time.Now()
	sctx, cancel := context.WithTimeout(ctx, d.SendTimeout)
	res, retry, err := safeNotify(sctx, n, m)
	cancel()
	took := time.Since(start)
	if err != nil && res.Deferred {
		// Nothing was attempted: back to the queue, uncounted, and no
		// attempt row (a busy host would otherwise fill the log).
		c.Status, c.Uncounted, c.Note = requeued(del), true, err.Error()
		c.NextAttemptAt = d.Now().Add(max(res.RetryAfter, time.Second))
		return c
	}
	a := &gateway.Attempt{DeliveryID: del.ID, AttemptedAt: at, Duration: took, Code: res.Code, Response: res.Response}
	c.Attempt = a
	failure := FailureNone
	switch {
	case err == nil:
		a.Outcome, c.Status = gateway.AttemptSent, gateway.DeliverySent
	case res.ChannelDown:
		// Not the delivery's failure: back to the queue, due at once and
		// its attempt uncounted; the channel's pause does the waiting.
		a.Outcome, c.Uncounted, c.NextAttemptAt = gateway.AttemptTemporary, true, d.Now()
		c.Status = requeued(del)
	case res.Gone:
		a.Outcome, c.Status, failure = gateway.AttemptPermanent, gateway.DeliveryDead, FailureGone
	case !retry:
		a.Outcome, c.Status, failure = gateway.AttemptPermanent, gateway.DeliveryDead, FailurePermanent
	default:
		a.Outcome = gateway.AttemptTemporary
		if wait, ok := d.Backoff.Next(del.Attempts, res.RetryAfter); ok {
			c.Status, c.NextAttemptAt = gateway.DeliveryRetrying, d.Now().Add(wait)
		} else {
			// A day of retries without success counts against the
			// subscriber like a permanent failure.
			c.Status, failure = gateway.DeliveryDead, FailurePermanent
		}
	}
	if err != nil {
		a.Error = err.Error() // the store caps what it keeps
	}
	c.Subscriber = FailurePolicy{DisableAfter: d.DisableAfter}.Change(failure, err == nil, r.PermanentFailures > 0, a.Error)
	if err == nil {
		if n := d.sentBy[ch]; n != nil {
			n.Add(1)
		}
	}
	if d.Metrics != nil {
		d.Metrics.DeliverySendDuration.WithLabelValues(string(ch)).Observe(took.Seconds())
		if err != nil {
			d.Metrics.DeliveryFailures.WithLabelValues(string(ch), failureReason(res, err)).Inc()
		}
	}
	d.count(ch, a.Outcome, c.Status)
	d.logOutcome(ch, del, c)
	return c
}

// requeued is the status a delivery returns to when its attempt is given
// back: queued if it was its first, retrying otherwise.
func requeued(del gateway.Delivery) gateway.DeliveryStatus {
	if del.Attempts <= 1 {
		return gateway.DeliveryQueued
	}
	return gateway.DeliveryRetrying
}

// skip decides, from the state at send time, that a delivery must not go
// out: planning happened earlier, and since then the address may have been
// suppressed or the subscriber may have left.
func (d *Dispatcher) skip(del gateway.Delivery, ev *gateway.Event, r *store.Recipient) (gateway.DeliveryStatus, string) {
	switch {
	case ev == nil || r == nil:
		return gateway.DeliveryCancelled, "its event or subscriber no longer exists"
	case r.Suppressed:
		return gateway.DeliverySuppressed, "the address is on the suppression list"
	case ev.SubscriberID == "" && r.Status != gateway.SubscriberActive:
		// Events addressed to one subscriber (confirmation, test) go
		// whatever its status; the others only to active subscribers.
		return gateway.DeliveryCancelled, fmt.Sprintf("the subscriber is %s", r.Status)
	case del.Attempts > d.Backoff.MaxAttempts():
		// Only leases that expired again and again get here: a message
		// whose sending keeps killing its process must not do so forever.
		return gateway.DeliveryDead, "too many attempts: its sender stopped while sending it, repeatedly"
	}
	return "", ""
}

// safeNotify calls a channel, turning a panic into a temporary failure, so
// that one bad message cannot take the dispatcher down.
func safeNotify(ctx context.Context, n Notifier, m *Message) (res Result, retry bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, retry, err = Result{}, true, fmt.Errorf("notifier panicked: %v", p)
		}
	}()
	return n.Notify(ctx, m)
}

func (d *Dispatcher) count(ch gateway.Channel, outcome gateway.AttemptOutcome, status gateway.DeliveryStatus) {
	if d.Metrics == nil {
		return
	}
	if outcome != "" {
		d.Metrics.DeliveryAttempts.WithLabelValues(string(ch), string(outcome)).Inc()
	}
	switch status {
	case gateway.DeliveryDead, gateway.DeliverySuppressed, gateway.DeliveryCancelled:
		d.Metrics.DeliveriesUnsent.WithLabelValues(string(ch), string(status)).Inc()
	}
}

// logOutcome logs failures: a retry at debug (the attempt row has it), a
// delivery given up at info.
func (d *Dispatcher) logOutcome(ch gateway.Channel, del gateway.Delivery, c store.Completion) {
	level := slog.LevelDebug
	if c.Status == gateway.DeliverySent {
		return
	}
	if c.Status == gateway.DeliveryDead {
		level = slog.LevelInfo
	}
	d.Log.Log(context.Background(), level, "delivery failed", "delivery_id", del.ID, "channel", ch,
		"attempt", del.Attempts, "status", c.Status, "code", c.Attempt.Code, "err", c.Attempt.Error)
}

// failureReason names a failed attempt for metrics, with few distinct
// values: the reply code when one came, else the kind of error.
func failureReason(res Result, err error) string {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case res.ChannelDown:
		return "channel_down"
	case res.Code > 0:
		return strconv.Itoa(res.Code)
	case errors.As(err, &dns):
		return "dns"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &ne):
		return "connection"
	}
	return "invalid"
}
