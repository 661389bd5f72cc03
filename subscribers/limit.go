package subscribers

import (
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/ratelimit"
)

// AllowIP takes one request from a client address's allowance on the
// public forms: Options.IPBurst at once, then one every Options.IPEvery.
// Over it, the error is ERATELIMITED with RetryAfter set. Clients count by
// gateway.ClientNetwork (IPv6 per /64, which is what one host usually
// holds), in the one keyed token bucket (gateway/ratelimit), per replica:
// the limit stops one client from hammering one replica (and, with the
// per-address confirmation limit, from using Herald to mail strangers).
// Subscribe calls it itself for requests with an IP; call it for the
// other public forms (manage, unsubscribe) before doing their work.
func (s *Service) AllowIP(ip string) error {
	if ok, d := s.ips.Allow(gateway.ClientNetwork(ip), s.o.Now()); !ok {
		return &gateway.Error{Code: gateway.ERATELIMITED, RetryAfter: ratelimit.RetryAfter(d),
			Message: "Too many requests from your address; please try again later."}
	}
	return nil
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
