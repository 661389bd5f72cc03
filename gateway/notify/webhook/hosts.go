package webhook

import (
	"context"
	"sync"
)

// hostLimit bounds concurrent requests per receiving host, so a receiver
// that answers slowly holds at most n workers and the others keep
// delivering elsewhere. Entries exist only while requests to their host
// are in flight or waiting.
type hostLimit struct {
	n     int
	mu    sync.Mutex
	hosts map[string]*hostSlots
}

type hostSlots struct {
	slots chan struct{}
	users int // holders and waiters
}

func newHostLimit(n int) *hostLimit {
	return &hostLimit{n: n, hosts: map[string]*hostSlots{}}
}

// acquire waits for a slot of host, or for ctx to end. The returned
// function frees the slot; call it exactly once.
func (l *hostLimit) acquire(ctx context.Context, host string) (func(), error) {
	l.mu.Lock()
	h := l.hosts[host]
	if h == nil {
		h = &hostSlots{slots: make(chan struct{}, l.n)}
		l.hosts[host] = h
	}
	h.users++
	l.mu.Unlock()
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots; l.leave(host, h) }, nil
	case <-ctx.Done():
		l.leave(host, h)
		return nil, ctx.Err()
	}
}

func (l *hostLimit) leave(host string, h *hostSlots) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h.users--; h.users == 0 {
		delete(l.hosts, host)
	}
}
