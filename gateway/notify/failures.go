package notify

import (
	"fmt"

	"github.com/heraldstatus/herald/gateway/store"
)

// Failure is what a delivery's outcome says about its subscriber.
type Failure int

// Failures.
const (
	FailureNone Failure = iota
	// FailurePermanent counts against the subscriber: a permanent refusal
	// (the channel said not to retry: a 5xx reply of the mail server, a 4xx
	// answer of a webhook) or a day of retries without success.
	FailurePermanent
	// FailureGone is the receiver asking never to be sent to again (a
	// webhook's 410 Gone).
	FailureGone
)

// FailurePolicy is the subscriber-failure policy, the one place that
// decides what failed deliveries do to a subscriber: DisableAfter
// permanent failures in a row (no success in between) disable it and put
// an email address on the suppression list with reason "failures"; Gone
// does so at once with reason "bounce"; a success after failures starts
// the count again. DisableAfter <= 0 never disables on a count. The store
// only carries out what Change returns (store.SubscriberChange).
type FailurePolicy struct {
	DisableAfter int
}

// Change is what an outcome does to its subscriber: f the failure it
// says, sent whether the delivery went out, hadFailures whether the
// subscriber had failures counted when it was loaded (most have none, and
// clearing only theirs saves a write per message), and why the attempt's
// error or the outcome's note.
func (p FailurePolicy) Change(f Failure, sent, hadFailures bool, why string) store.SubscriberChange {
	switch {
	case sent:
		return store.SubscriberChange{ClearFailures: hadFailures}
	case f == FailureGone:
		return store.SubscriberChange{Disable: func(int) (string, string, bool) {
			return "bounce", "gone: " + why, true
		}}
	case f == FailurePermanent:
		return store.SubscriberChange{CountFailure: true, Disable: func(n int) (string, string, bool) {
			if p.DisableAfter <= 0 || n < p.DisableAfter {
				return "", "", false
			}
			return "failures", fmt.Sprintf("%d permanent failures in a row, the last: %s", n, why), true
		}}
	}
	return store.SubscriberChange{}
}
