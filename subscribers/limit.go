package subscribers

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/heraldstatus/herald/gateway"
)

// ipLimiter keeps one token bucket per client address for the public
// forms. Each replica keeps its own, so N replicas admit up to N times
// the rate: the limit stops one client from hammering one replica (and,
// with the per-address confirmation limit, from using Herald to mail
// strangers), which per-replica buckets do without shared state.
type ipLimiter struct {
	mu    sync.Mutex
	every time.Duration
	burst int
	m     map[string]*rate.Limiter
}

func newIPLimiter(burst int, every time.Duration) *ipLimiter {
	return &ipLimiter{every: every, burst: burst, m: map[string]*rate.Limiter{}}
}

// maxTrackedIPs bounds the buckets kept; past it, full buckets (clients
// that have been quiet long enough to be back at their burst) are dropped.
const maxTrackedIPs = 10000

// AllowIP takes one request from a client address's allowance on the
// public forms: Options.IPBurst at once, then one every Options.IPEvery.
// Over it, the error is ERATELIMITED with RetryAfter set. IPv6 clients
// are limited per /64, which is what one host usually holds. Subscribe
// calls it itself for requests with an IP; call it for the other public
// forms (manage, unsubscribe) before doing their work.
func (s *Service) AllowIP(ip string) error {
	key := gateway.ClientNetwork(ip)
	now := s.o.Now()
	l := s.ips
	l.mu.Lock()
	lim := l.m[key]
	if lim == nil {
		if len(l.m) >= maxTrackedIPs {
			l.prune(now)
		}
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.m[key] = lim
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		wait := max(time.Second, (d + time.Second - 1).Truncate(time.Second))
		return &gateway.Error{Code: gateway.ERATELIMITED, RetryAfter: wait,
			Message: "Too many requests from your address; please try again later."}
	}
	return nil
}

// prune drops the buckets that are full again; the caller holds mu.
func (l *ipLimiter) prune(now time.Time) {
	for k, lim := range l.m {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.m, k)
		}
	}
}

// confirmWait is how long to wait after the n-th confirmation mail to one
// address before the next: Options.ConfirmEvery, doubling with each mail,
// at most a day (the count restarts a day after the last mail). A person
// who lost the first mail gets another within minutes; a form abused to
// mail a stranger sends them a handful a day at most.
func (s *Service) confirmWait(n int) time.Duration {
	w := s.o.ConfirmEvery
	for i := 1; i < n && w < 24*time.Hour; i++ {
		w *= 2
	}
	return min(w, 24*time.Hour)
}
