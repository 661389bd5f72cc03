package notify

import (
	"log/slog"
	"sync"
	"time"
)

// Defaults of the channel pause: the first probe a second after the
// channel went down, then each wait doubled up to half a minute.
const (
	defaultPauseMin = time.Second
	defaultPauseMax = 30 * time.Second
)

// pause is the state of one channel's own service (the SMTP server). When
// a send reports ChannelDown, the channel pauses: its pump claims nothing
// but one probe delivery per wait, the wait doubling up to a cap, and
// resumes at the first probe that reaches the service. Failing fast and
// uncounted, deliveries keep their retry schedule for failures that are
// theirs; an SMTP server down for a minute costs the queue a minute, not
// a 5-minute or 30-minute retry step for every message.
type pause struct {
	min, max time.Duration
	log      *slog.Logger
	changed  func(down bool) // metrics; may be nil

	mu    sync.Mutex
	down  bool
	wait  time.Duration
	until time.Time // no probe before
}

// failed records a ChannelDown outcome at now.
func (p *pause) failed(now time.Time, err string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case !p.down:
		p.down, p.wait = true, p.min
		p.log.Warn("channel unavailable; pausing it and probing", "err", err, "probe_in", p.wait)
		if p.changed != nil {
			p.changed(true)
		}
	case !now.Before(p.until):
		// A probe failed (sends that were in hand when the channel went
		// down fail too, before the first probe: they do not count).
		p.wait = min(2*p.wait, p.max)
		p.log.Info("channel still unavailable", "err", err, "probe_in", p.wait)
	default:
		return
	}
	p.until = now.Add(p.wait)
}

// worked records an attempt that reached the service (whatever the
// recipient's answer) and reports whether that ended a pause.
func (p *pause) worked() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.down {
		return false
	}
	p.down = false
	p.log.Info("channel available again; resuming")
	if p.changed != nil {
		p.changed(false)
	}
	return true
}

// probe says whether the channel is paused and, if so, how long until the
// next probe may go (zero or less: now).
func (p *pause) probe(now time.Time) (paused bool, in time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.down, p.until.Sub(now)
}
