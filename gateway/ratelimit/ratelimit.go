// Package ratelimit is Herald's one keyed token bucket: every in-memory
// limit that counts per client, per account or per source (the admin API's
// and ingest's authentication failures, the console's sign-in, the public
// subscribe forms, each source's rate_limit) keeps its buckets in a Keyed.
// The buckets are golang.org/x/time/rate limiters; Keyed adds the keys and
// bounds their number.
//
// Per-client limits key by gateway.ClientNetwork, so an IPv6 client counts
// per /64 everywhere.
//
// Each replica keeps its own buckets, so N replicas admit up to N times a
// limit: the limits protect one replica (and its database) from one client,
// which per-replica buckets do without shared state.
package ratelimit

import (
	"container/list"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a token bucket: Burst tokens at once, one more every Every.
type Limit struct {
	Burst int
	Every time.Duration
}

// PerSecond is the Limit of r tokens a second with a burst of one second's
// worth (at least one), as a source's rate_limit reads.
func PerSecond(r float64) Limit {
	return Limit{Burst: max(1, int(math.Ceil(r))), Every: time.Duration(float64(time.Second) / r)}
}

// DefaultMaxKeys bounds the keys of a Keyed made with a max of 0.
const DefaultMaxKeys = 10000

// Keyed holds one token bucket per key, at most max of them. When a new
// key arrives at the bound, the buckets that are full again are dropped
// first (they carry no information: a new bucket starts full), then, if
// that freed less than a tenth, the least recently used ones until a tenth
// is free. So memory stays bounded whatever the number of keys an attacker
// cycles through, the sweep runs at most once per max/10 new keys, and a
// key that was just charged is the last to go. Safe for concurrent use.
type Keyed struct {
	limit Limit
	max   int
	mu    sync.Mutex
	m     map[string]*list.Element // of *bucket
	lru   list.List                // front: most recently used
}

// bucket is one key's tokens and its failures in a row (see Fail).
type bucket struct {
	key   string
	lim   *rate.Limiter
	limit Limit
	fails int
}

// New returns a Keyed whose buckets follow l, keeping at most max keys
// (DefaultMaxKeys when max <= 0).
func New(l Limit, max int) *Keyed {
	if max <= 0 {
		max = DefaultMaxKeys
	}
	return &Keyed{limit: l, max: max, m: map[string]*list.Element{}}
}

// Len is the number of keys held.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}

// get returns key's bucket under limit l, creating it (and making room
// for it) or moving it to the front; the caller holds mu.
func (k *Keyed) get(key string, l Limit, now time.Time) *bucket {
	if e, ok := k.m[key]; ok {
		k.lru.MoveToFront(e)
		b := e.Value.(*bucket)
		if b.limit != l { // a source's rate_limit changed through the API
			b.lim.SetLimitAt(now, rate.Every(l.Every))
			b.lim.SetBurstAt(now, l.Burst)
			b.limit = l
		}
		return b
	}
	if len(k.m) >= k.max {
		k.evict(now)
	}
	b := &bucket{key: key, lim: rate.NewLimiter(rate.Every(l.Every), l.Burst), limit: l}
	k.m[key] = k.lru.PushFront(b)
	return b
}

// evict makes room: full buckets first, then the least recently used,
// until at most nine tenths of max are held; the caller holds mu.
func (k *Keyed) evict(now time.Time) {
	for e := k.lru.Back(); e != nil; {
		prev := e.Prev()
		if b := e.Value.(*bucket); b.lim.TokensAt(now) >= float64(b.limit.Burst) {
			k.remove(e)
		}
		e = prev
	}
	for len(k.m) > k.max*9/10 {
		k.remove(k.lru.Back())
	}
}

func (k *Keyed) remove(e *list.Element) {
	delete(k.m, e.Value.(*bucket).key)
	k.lru.Remove(e)
}

// Allow takes a token for key at now; when there is none it takes nothing
// and says how long until there is one.
func (k *Keyed) Allow(key string, now time.Time) (bool, time.Duration) {
	return k.AllowLimit(key, k.limit, now)
}

// AllowLimit is Allow for a key whose limit is its own (a source's
// rate_limit); a changed l applies to the key's bucket from now on.
func (k *Keyed) AllowLimit(key string, l Limit, now time.Time) (bool, time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.get(key, l, now)
	if b.lim.AllowN(now, 1) {
		return true, 0
	}
	return false, waitFor(b.lim, now)
}

// Check reports whether key has a token at now without taking it (a key
// never seen has), and when not, how long until it has.
func (k *Keyed) Check(key string, now time.Time) (bool, time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.m[key]
	if !ok {
		return true, 0
	}
	if b := e.Value.(*bucket); b.lim.TokensAt(now) < 1 {
		return false, waitFor(b.lim, now)
	}
	return true, 0
}

// Fail charges key for a failed attempt at now, with a progressive delay:
// the first Burst failures in a row cost one token each, every further
// one twice the one before (at most Burst), so the wait between guesses
// doubles while one mistake costs nothing noticeable. The bucket may go
// into debt; a bucket that has refilled completely starts the count again.
func (k *Keyed) Fail(key string, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.get(key, k.limit, now)
	burst := b.limit.Burst
	if b.lim.TokensAt(now) >= float64(burst) {
		b.fails = 0
	}
	b.fails++
	cost := 1
	for i := burst; i < b.fails && cost < burst; i++ {
		cost *= 2
	}
	b.lim.ReserveN(now, min(cost, burst))
}

// Reset forgets key: a success ends its failures in a row.
func (k *Keyed) Reset(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.m[key]; ok {
		k.remove(e)
	}
}

// waitFor is how long until lim has a token at now.
func waitFor(lim *rate.Limiter, now time.Time) time.Duration {
	r := lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return wait
}

// RetryAfter rounds a wait up to whole seconds, at least one, as the
// Retry-After header counts them.
func RetryAfter(d time.Duration) time.Duration {
	return max(time.Second, (d + time.Second - 1).Truncate(time.Second))
}
