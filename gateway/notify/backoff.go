package notify

import (
	"math/rand/v2"
	"time"
)

// DefaultSchedule is the wait before each retry, after the first attempt,
// the second, and so on: the Standard Webhooks schedule, about a day in
// all (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), so a receiver down
// overnight still gets its messages and one gone for good stops costing
// work by the next day.
var DefaultSchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// Bounds on a receiver's Retry-After: sooner than MinRetryAfter would be a
// hot loop, later than MaxRetryAfter would let one answer park a message
// for days.
const (
	MinRetryAfter = 5 * time.Second
	MaxRetryAfter = time.Hour
)

// Backoff decides when a temporarily failed delivery is tried again.
// The zero value uses DefaultSchedule with ±20% jitter.
type Backoff struct {
	// Schedule is the wait after each failed attempt; its length is the
	// number of retries, so a delivery gets len(Schedule)+1 attempts.
	Schedule []time.Duration
	// Jitter spreads each wait uniformly by ±Jitter (0.2 = ±20%), so the
	// deliveries of one outage do not all come back in the same second.
	// Negative means none.
	Jitter float64
	// Rand returns a uniform number in [0, 1); nil uses math/rand/v2.
	Rand func() float64
}

func (b Backoff) schedule() []time.Duration {
	if len(b.Schedule) == 0 {
		return DefaultSchedule
	}
	return b.Schedule
}

// MaxAttempts is how many attempts a delivery gets in all.
func (b Backoff) MaxAttempts() int { return len(b.schedule()) + 1 }

// Next returns the wait before the next try after attempt number attempts
// (1 for the first) failed temporarily, and ok=false when that was the last
// attempt and the delivery is dead. A receiver's retryAfter, when given,
// replaces the schedule's wait, bounded to [MinRetryAfter, MaxRetryAfter]
// and not jittered (the receiver chose the time).
func (b Backoff) Next(attempts int, retryAfter time.Duration) (time.Duration, bool) {
	s := b.schedule()
	if attempts < 1 {
		attempts = 1
	}
	if attempts > len(s) {
		return 0, false
	}
	if retryAfter > 0 {
		return min(max(retryAfter, MinRetryAfter), MaxRetryAfter), true
	}
	wait := s[attempts-1]
	j := b.Jitter
	if j == 0 {
		j = 0.2
	}
	if j > 0 {
		r := rand.Float64
		if b.Rand != nil {
			r = b.Rand
		}
		wait = time.Duration(float64(wait) * (1 - j + 2*j*r()))
	}
	return wait, true
}
