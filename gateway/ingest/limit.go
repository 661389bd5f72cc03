package ingest

import (
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/ratelimit"
)

// allow takes a token of src's bucket at now, or says how long to wait for
// one: rate_limit requests a second with a burst of one second's worth, in
// the one keyed token bucket (gateway/ratelimit) keyed by source. Each
// replica keeps its own buckets, so N replicas admit up to N times a
// source's rate; the limit protects a replica and its database from one
// runaway sender, which per-replica buckets do without shared state. A
// rate_limit changed through the API applies from the next request.
func (s *Service) allow(src *gateway.Source, now time.Time) (time.Duration, bool) {
	if src.RateLimit <= 0 {
		return 0, true
	}
	ok, d := s.limits.AllowLimit(src.ID, ratelimit.PerSecond(src.RateLimit), now)
	return d, ok
}

// rateLimited is the ERATELIMITED error for a wait of d, rounded up to
// whole seconds as Retry-After counts them.
func rateLimited(src *gateway.Source, d time.Duration) error {
	return &gateway.Error{Code: gateway.ERATELIMITED, RetryAfter: ratelimit.RetryAfter(d),
		Message: "Source " + src.Name + " is over its rate limit; retry later."}
}
