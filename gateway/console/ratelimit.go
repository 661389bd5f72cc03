package console

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a token bucket: Burst attempts at once, one more every Every.
type Limit struct {
	Burst int
	Every time.Duration
}

// limiter holds a token bucket per key (a client network, or an account
// from a client network). Buckets that have refilled completely carry no
// information and are dropped when the map grows, so an attacker cycling
// keys cannot grow it without bound.
type limiter struct {
	limit Limit
	mu    sync.Mutex
	m     map[string]*bucket
}

// bucket is one key's tokens and its failures in a row (see fail).
type bucket struct {
	lim   *rate.Limiter
	fails int
}

// maxBuckets is where full buckets start being swept.
const maxBuckets = 10000

func newLimiter(l Limit) *limiter { return &limiter{limit: l, m: map[string]*bucket{}} }

// get returns key's bucket, creating it; the caller holds mu.
func (l *limiter) get(key string, now time.Time) *bucket {
	b, ok := l.m[key]
	if !ok {
		if len(l.m) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{lim: rate.NewLimiter(rate.Every(l.limit.Every), l.limit.Burst)}
		l.m[key] = b
	}
	return b
}

// allow takes a token for key at now; when there is none it says how long
// until there is one.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(key, now)
	if b.lim.AllowN(now, 1) {
		return true, 0
	}
	return false, waitFor(b.lim, now)
}

// check reports whether key has a token at now without taking it, and
// when not, how long until it has.
func (l *limiter) check(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[key]
	if !ok || b.lim.TokensAt(now) >= 1 {
		return true, 0
	}
	return false, waitFor(b.lim, now)
}

// fail charges key for a failed attempt at now, with a progressive delay:
// the first Burst failures in a row cost one token each, every further
// one twice the one before (at most Burst), so the wait between guesses
// doubles (with the defaults: 30 s, 1 min, 2 min, … up to 5 min) while
// one mistyped password costs nothing noticeable. The bucket may go into
// debt; a bucket that has refilled completely starts the count again.
func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(key, now)
	if b.lim.TokensAt(now) >= float64(l.limit.Burst) {
		b.fails = 0
	}
	b.fails++
	cost := 1
	for i := l.limit.Burst; i < b.fails && cost < l.limit.Burst; i++ {
		cost *= 2
	}
	b.lim.ReserveN(now, min(cost, l.limit.Burst))
}

// reset forgets key: a success ends its failures in a row.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, key)
}

// waitFor is how long until lim has a token at now.
func waitFor(lim *rate.Limiter, now time.Time) time.Duration {
	r := lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return wait
}

func (l *limiter) sweep(now time.Time) {
	for k, b := range l.m {
		if b.lim.TokensAt(now) >= float64(l.limit.Burst) {
			delete(l.m, k)
		}
	}
}
