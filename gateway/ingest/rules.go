package ingest

import (
	"context"
	"sync"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// ruleCache keeps the routing rules between loads. Rules change rarely and
// every alert needs them, so each replica reloads them when they are older
// than ttl, and at once when this replica's admin API changes them
// (Invalidate). A replica that did not make a change routes by the old
// rules for at most ttl; a write that finds a rule or component gone is
// retried with fresh rules (see Service.Accept), so a stale cache never
// fails a request.
type ruleCache struct {
	ttl  time.Duration
	load func(ctx context.Context) ([]gateway.Rule, error)

	mu       sync.Mutex
	rules    []gateway.Rule
	loadedAt time.Time // zero: load on next use
}

// get returns the current rules; one caller loads while the others wait.
func (c *ruleCache) get(ctx context.Context) ([]gateway.Rule, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loadedAt.IsZero() && time.Since(c.loadedAt) < c.ttl {
		return c.rules, nil
	}
	rules, err := c.load(ctx)
	if err != nil {
		return nil, err
	}
	// The slice is shared read-only by every request until the next load.
	c.rules, c.loadedAt = rules, time.Now()
	return rules, nil
}

func (c *ruleCache) invalidate() {
	c.mu.Lock()
	c.loadedAt = time.Time{}
	c.mu.Unlock()
}
