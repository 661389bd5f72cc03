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

// limiter holds a token bucket per key (an IP or an account). Buckets
// that have refilled completely carry no information and are dropped
// when the map grows, so an attacker cycling keys cannot grow it without
// bound.
type limiter struct {
	limit Limit
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

// maxBuckets is where full buckets start being swept.
const maxBuckets = 10000

func newLimiter(l Limit) *limiter { return &limiter{limit: l, m: map[string]*rate.Limiter{}} }

// allow takes a token for key at now; when there is none it says how long
// until there is one.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[key]
	if !ok {
		if len(l.m) >= maxBuckets {
			l.sweep(now)
		}
		b = rate.NewLimiter(rate.Every(l.limit.Every), l.limit.Burst)
		l.m[key] = b
	}
	if b.AllowN(now, 1) {
		return true, 0
	}
	r := b.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return false, wait
}

func (l *limiter) sweep(now time.Time) {
	for k, b := range l.m {
		if b.TokensAt(now) >= float64(l.limit.Burst) {
			delete(l.m, k)
		}
	}
}
