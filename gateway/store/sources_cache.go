package store

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// sourceTTL is how long SourceByName's answer is kept. Every ingest
// request looks its source up by name, and on PostgreSQL that was one
// round trip of the six a single alert cost. A change of a source made
// through this store (a token rotated, a rate limit set, the source
// deleted, a config sync) takes effect at once; one made by another
// process (another replica, the CLI) is seen here within sourceTTL.
const sourceTTL = time.Second

// sourceCache holds SourceByName's answers. A change of sources bumps gen
// before its statement and again after its commit, and an answer counts
// only while gen is the one read before its lookup: a lookup that raced
// with a change is used once, never kept.
type sourceCache struct {
	gen    atomic.Uint64
	mu     sync.Mutex
	byName map[string]cachedSource
}

type cachedSource struct {
	src gateway.Source
	gen uint64
	at  time.Time
}

// get returns a copy of name's cached source, if it is fresh.
func (c *sourceCache) get(name string, now time.Time) (*gateway.Source, bool) {
	c.mu.Lock()
	e, ok := c.byName[name]
	c.mu.Unlock()
	if !ok || e.gen != c.gen.Load() || now.Sub(e.at) >= sourceTTL {
		return nil, false
	}
	src := e.src
	return &src, true
}

// put keeps src as name's source, read at now after gen was read.
func (c *sourceCache) put(name string, src *gateway.Source, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen.Load() {
		return
	}
	if c.byName == nil {
		c.byName = map[string]cachedSource{}
	}
	c.byName[name] = cachedSource{src: *src, gen: gen, at: now}
}

// forget drops every answer.
func (c *sourceCache) forget() {
	c.mu.Lock()
	c.gen.Add(1)
	clear(c.byName)
	c.mu.Unlock()
}

// sourcesChanged is called by a transaction's statement that changes a
// source: the cached answers are dropped now and again once it ends.
func (t *Tx) sourcesChanged() {
	t.s.sources.forget()
	t.after = append(t.after, t.s.sources.forget)
}
