package webhook

import (
	"context"
	"errors"
	"sync"
	"time"
)

// hostLimit bounds concurrent requests per receiving host, so a receiver
// that answers slowly holds at most n workers and the others keep
// delivering elsewhere. Entries exist only while requests to their host
// are in flight or waiting.
//
// Waiting for a slot is bounded too: a request waits at most maxWait for
// a host whose slots are all taken, and does not wait at all for one
// that has made no progress (no request started or finished) for that
// long; either way it gets errHostBusy and its delivery is deferred. A
// fast receiver with a long line is served from the line (its slots turn
// over in milliseconds); a hanging one holds its n slots and nothing more.
type hostLimit struct {
	n       int
	maxWait time.Duration
	now     func() time.Time
	mu      sync.Mutex
	hosts   map[string]*hostSlots
}

type hostSlots struct {
	slots    chan struct{}
	users    int       // holders and waiters
	progress time.Time // last time a slot was taken or given back
}

// defaultMaxWait bounds a request's wait in its host's line.
const defaultMaxWait = time.Second

func newHostLimit(n int) *hostLimit {
	return &hostLimit{n: n, maxWait: defaultMaxWait, now: time.Now, hosts: map[string]*hostSlots{}}
}

// errHostBusy: every slot of the host is taken and the line does not move.
var errHostBusy = errors.New("host busy")

// acquire waits for a slot of host, at most maxWait, or until ctx ends.
// The returned function frees the slot; call it exactly once.
func (l *hostLimit) acquire(ctx context.Context, host string) (func(), error) {
	l.mu.Lock()
	h := l.hosts[host]
	now := l.now()
	if h == nil {
		h = &hostSlots{slots: make(chan struct{}, l.n), progress: now}
		l.hosts[host] = h
	}
	if len(h.slots) == cap(h.slots) && now.Sub(h.progress) > l.maxWait {
		l.mu.Unlock()
		return nil, errHostBusy
	}
	h.users++
	l.mu.Unlock()
	var timeout <-chan time.Time
	select {
	case h.slots <- struct{}{}:
	default: // every slot taken: wait in line, for a while
		t := time.NewTimer(l.maxWait)
		defer t.Stop()
		timeout = t.C
		select {
		case h.slots <- struct{}{}:
		case <-timeout:
			l.leave(host, h, false)
			return nil, errHostBusy
		case <-ctx.Done():
			l.leave(host, h, false)
			return nil, ctx.Err()
		}
	}
	l.moved(h)
	return func() { <-h.slots; l.leave(host, h, true) }, nil
}

func (l *hostLimit) moved(h *hostSlots) {
	l.mu.Lock()
	h.progress = l.now()
	l.mu.Unlock()
}

func (l *hostLimit) leave(host string, h *hostSlots, done bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if done {
		h.progress = l.now()
	}
	if h.users--; h.users == 0 {
		delete(l.hosts, host)
	}
}
