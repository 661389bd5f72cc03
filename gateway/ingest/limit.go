package ingest

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/heraldstatus/herald/gateway"
)

// limiters hold one token bucket per source: rate_limit requests a second
// with a burst of one second's worth. Each replica keeps its own buckets,
// so N replicas admit up to N times a source's rate; the limit protects a
// replica and its database from one runaway sender, which per-replica
// buckets do without shared state.
type limiters struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// allow takes a token for src at now, or says how long to wait for one.
func (l *limiters) allow(src *gateway.Source, now time.Time) (time.Duration, bool) {
	if src.RateLimit <= 0 {
		return 0, true
	}
	limit, burst := rate.Limit(src.RateLimit), max(1, int(math.Ceil(src.RateLimit)))
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*rate.Limiter{}
	}
	lim := l.m[src.ID]
	switch {
	case lim == nil:
		lim = rate.NewLimiter(limit, burst)
		l.m[src.ID] = lim
	case lim.Limit() != limit || lim.Burst() != burst: // changed through the API
		lim.SetLimitAt(now, limit)
		lim.SetBurstAt(now, burst)
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// rateLimited is the ERATELIMITED error for a wait of d, rounded up to
// whole seconds as Retry-After counts them.
func rateLimited(src *gateway.Source, d time.Duration) error {
	wait := max(time.Second, (d + time.Second - 1).Truncate(time.Second))
	return &gateway.Error{Code: gateway.ERATELIMITED, RetryAfter: wait,
		Message: "Source " + src.Name + " is over its rate limit; retry later."}
}
