package webhook

import (
	"errors"
	"sync"
	"time"
)

// ErrCircuitOpen is wrapped by the temporary failure Notify returns without
// sending while a host's circuit is open.
var ErrCircuitOpen = errors.New("webhook: circuit open")

// breaker is a per-host circuit breaker. After n consecutive temporary
// failures (5xx, 408, 429, timeouts, connection errors) to one host, the
// circuit opens for coolOff: requests to that host fail at once as
// temporary, with the rest of the cool-off as their Retry-After, so a dead
// receiver stops holding workers and host slots. After the cool-off the
// host is tried again (half-open): one more temporary failure opens the
// circuit again, any answer that is not a temporary failure closes it.
//
// Entries exist only for hosts whose last answer was a temporary failure.
type breaker struct {
	n       int // 0: disabled
	coolOff time.Duration
	mu      sync.Mutex
	hosts   map[string]*circuit
}

type circuit struct {
	failures  int       // consecutive temporary failures
	openUntil time.Time // zero: closed
}

func newBreaker(n int, coolOff time.Duration) *breaker {
	return &breaker{n: n, coolOff: coolOff, hosts: map[string]*circuit{}}
}

// open reports whether host's circuit is open at now and for how long still.
func (b *breaker) open(host string, now time.Time) (time.Duration, bool) {
	if b.n == 0 {
		return 0, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.hosts[host]
	if c == nil || !now.Before(c.openUntil) {
		return 0, false
	}
	return c.openUntil.Sub(now), true
}

// record counts the outcome of a request to host at now: temporary is a
// failure worth retrying; anything else shows the host answering. It
// reports whether this outcome opened the circuit.
func (b *breaker) record(host string, temporary bool, now time.Time) bool {
	if b.n == 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !temporary {
		delete(b.hosts, host)
		return false
	}
	c := b.hosts[host]
	if c == nil {
		c = &circuit{}
		b.hosts[host] = c
	}
	if now.Before(c.openUntil) {
		return false // a request sent before the circuit opened
	}
	if c.failures++; c.failures < b.n {
		return false
	}
	// Half-open after the cool-off: one more failure opens it again.
	c.failures = b.n - 1
	c.openUntil = now.Add(b.coolOff)
	return true
}
