package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/metrics"
	"github.com/heraldstatus/herald/gateway/store"
)

// Dispatcher sends what the planner queued. Each channel has its own
// pump: it claims due deliveries of that channel (a lease in the
// database), loads their events and subscribers in one query each, sends
// them concurrently (at most Workers at a time per channel, fewer for a
// channel with its own bound, see Concurrent; so a stalled SMTP server
// never holds up webhooks) and hands each outcome to a recorder that
// commits outcomes in groups.
//
// State is written before a send (the claim: status sending, attempt
// counted, lease) and after it (the outcome, committed before the worker
// takes another message), so a crash re-sends only the messages a
// receiver accepted in the instant before the kill, whose outcome was not
// yet committed; the deliveries claimed but not sent wait out their lease
// and any replica sends them. A live dispatcher extends its leases, and a
// lease is longer than a send may take, so a slow send is never taken from
// it.
//
// Set the exported fields, then call Run once. Zero values get defaults.
type Dispatcher struct {
	Store     *store.Store
	Notifiers map[gateway.Channel]Notifier
	// Links returns a subscriber's manage and unsubscribe URLs; nil leaves
	// them empty.
	Links   func(*gateway.Subscriber) (manage, unsubscribe string)
	Log     *slog.Logger
	Metrics *metrics.Metrics // optional
	// Owner identifies this process in leases; default a random id.
	Owner string
	// Workers bounds concurrent sends per channel (default 256). The
	// channels bound their own connections (SMTP pool, per-host webhook
	// limits); this is how many messages may be in their hands at once.
	Workers int
	// BatchSize bounds how many deliveries one claim takes (default 256).
	BatchSize int
	// Lease is how long a claimed delivery stays ours without a heartbeat
	// (default 2 min); it must exceed SendTimeout.
	Lease time.Duration
	// SendTimeout bounds one Notify call (default 1 min).
	SendTimeout time.Duration
	// Poll is the wait between claims when the queue is idle (default 1 s);
	// Wake and planned events cut it short.
	Poll time.Duration
	// StatsEvery is how often the queue gauges are refreshed (default 10 s).
	StatsEvery time.Duration
	// DisableAfter is how many permanent failures without a success
	// disable a subscriber (default 3; negative: never).
	DisableAfter int
	Backoff      Backoff
	// PauseMin and PauseMax bound the wait between probes of a channel
	// whose service is down (see Result.ChannelDown); defaults 1 s and
	// 30 s.
	PauseMin, PauseMax time.Duration
	// Now is the clock for leases and retry times (default time.Now);
	// tests move it instead of sleeping.
	Now func() time.Time

	sentBy   map[gateway.Channel]*atomic.Int64 // messages sent, for the rate gauge
	once     sync.Once
	wakePlan chan struct{}
	mu       sync.Mutex
	pumps    []chan struct{}
	seq      atomic.Int64
}

func (d *Dispatcher) init() {
	d.once.Do(func() {
		if d.Log == nil {
			d.Log = slog.Default()
		}
		if d.Owner == "" {
			d.Owner = gateway.NewID()
		}
		d.Workers = orDefault(d.Workers, 256)
		d.BatchSize = orDefault(d.BatchSize, 256)
		d.Lease = orDefault(d.Lease, 2*time.Minute)
		d.SendTimeout = orDefault(d.SendTimeout, time.Minute)
		d.Poll = orDefault(d.Poll, time.Second)
		d.StatsEvery = orDefault(d.StatsEvery, 10*time.Second)
		d.DisableAfter = orDefault(d.DisableAfter, 3)
		d.PauseMin = orDefault(d.PauseMin, defaultPauseMin)
		d.PauseMax = max(orDefault(d.PauseMax, defaultPauseMax), d.PauseMin)
		if d.Now == nil {
			d.Now = time.Now
		}
		d.wakePlan = make(chan struct{}, 1)
	})
}

// planner plans for the dispatcher and wakes its pumps when it did.
func (d *Dispatcher) planner() *Planner {
	return &Planner{Store: d.Store, Metrics: d.Metrics, Log: d.Log, Wake: d.wakePumps}
}

// orDefault returns v, or def when v is zero.
func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// Wake tells the dispatcher that an event was written or deliveries were
// planned, so it plans and claims now instead of at the next poll. It
// never blocks and is safe before Run.
func (d *Dispatcher) Wake() {
	d.init()
	poke(d.wakePlan)
	d.wakePumps()
}

func (d *Dispatcher) wakePumps() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.pumps {
		poke(c)
	}
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Run plans and sends until ctx ends, then stops claiming, lets the sends
// in flight finish (each within SendTimeout), records their outcomes and
// returns. It returns an error only for a dispatcher it cannot run.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.init()
	if d.Store == nil || len(d.Notifiers) == 0 {
		return errors.New("notify: dispatcher needs a store and at least one notifier")
	}
	if d.Lease <= d.SendTimeout {
		return fmt.Errorf("notify: lease (%s) must be longer than the send timeout (%s)", d.Lease, d.SendTimeout)
	}
	d.Log.Info("dispatcher started", "owner", d.Owner, "workers", d.Workers, "channels", len(d.Notifiers))
	d.sentBy = make(map[gateway.Channel]*atomic.Int64, len(d.Notifiers))
	for ch := range d.Notifiers {
		d.sentBy[ch] = new(atomic.Int64)
	}
	rec := newRecorder(d)
	var bg, pumps sync.WaitGroup
	bg.Go(func() { d.planLoop(ctx) })
	bg.Go(func() { d.leaseLoop(ctx) })
	bg.Go(func() { d.statsLoop(ctx) })
	for ch, n := range d.Notifiers {
		wake := make(chan struct{}, 1)
		d.mu.Lock()
		d.pumps = append(d.pumps, wake)
		d.mu.Unlock()
		pumps.Go(func() { d.pump(ctx, ch, n, wake, rec) })
	}
	pumps.Wait() // every send has finished and handed in its outcome
	rec.close()  // every outcome is written (or its lease will expire)
	bg.Wait()
	d.Log.Info("dispatcher stopped", "owner", d.Owner)
	return nil
}

// RunOnce plans pending events, then claims one batch per channel, sends
// it and records the outcomes before returning how many deliveries it
// handled. Run is the service; RunOnce is a step for tests and one-shot
// tools.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	d.init()
	if _, _, err := d.planner().PlanPending(ctx); err != nil {
		return 0, err
	}
	var out []store.Completion
	var mu sync.Mutex
	for ch, n := range d.Notifiers {
		b, err := d.claim(ctx, ch, d.BatchSize, true)
		if err != nil {
			return 0, err
		}
		sem := make(chan struct{}, d.Workers)
		var wg sync.WaitGroup
		for _, del := range b.deliveries {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				c := d.deliver(ctx, ch, n, b, del)
				mu.Lock()
				out = append(out, c)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	if len(out) == 0 {
		return 0, nil
	}
	lost, err := d.Store.CompleteDeliveries(ctx, out)
	d.lost(lost)
	return len(out), err
}

// pump claims and sends one channel's deliveries until ctx ends, then
// waits for its sends in flight.
func (d *Dispatcher) pump(ctx context.Context, ch gateway.Channel, n Notifier, wake chan struct{}, rec *recorder) {
	log := d.Log.With("channel", ch)
	workers := d.workers(n)
	slots := make(chan struct{}, workers)
	freed := make(chan struct{}, 1)
	var inflight sync.WaitGroup
	defer inflight.Wait()
	// Sends outlive shutdown: a message half-sent is finished and recorded,
	// not abandoned to a lease that would send it again.
	sendCtx := context.WithoutCancel(ctx)
	// Claim in sizeable batches when busy: one claim per freed slot would
	// cost a write per message.
	threshold := max(1, min(d.BatchSize, workers)/4)
	poll := time.NewTicker(d.Poll)
	defer poll.Stop()
	p := d.newPause(ch, log)
	var probe *time.Timer // while paused: fires when the next probe may go
	defer func() {
		if probe != nil {
			probe.Stop()
		}
	}()
	drained := false // the last claim found fewer rows than it asked for
	// Expired leases (a process stopped mid-send) are looked for at the
	// first claim and then every quarter lease, not at every claim (see
	// store.ClaimDue): they wait at most that much longer than their lease.
	var expiredAt time.Time
	for ctx.Err() == nil {
		free := workers - len(slots)
		want := min(free, d.BatchSize)
		if want < threshold {
			want = 0
		}
		var probeC <-chan time.Time
		waitFreed := false
		if paused, in := p.probe(time.Now()); paused {
			// One delivery at a time, and only once the wait is over
			// and the previous probe (or the sends that failed) is back.
			switch want = 0; {
			case in > 0:
				if probe == nil {
					probe = time.NewTimer(in)
				} else {
					probe.Reset(in)
				}
				probeC = probe.C
			case len(slots) > 0:
				waitFreed = true
			default:
				want = 1
			}
		}
		got := 0
		if want > 0 {
			// d.Now, the clock leases are judged by (tests move it).
			expired := d.Now().Sub(expiredAt) >= d.Lease/4
			if expired {
				expiredAt = d.Now()
			}
			b, err := d.claim(ctx, ch, want, expired)
			if err != nil && ctx.Err() == nil {
				log.Warn("claim deliveries", "err", err)
			}
			got = len(b.deliveries)
			drained = got < want
			for _, del := range b.deliveries {
				slots <- struct{}{} // never blocks: we claimed at most the free slots
				inflight.Go(func() {
					c := d.deliver(sendCtx, ch, n, b, del)
					// The slot is freed only once the outcome is
					// committed: a worker never has an unrecorded
					// send behind it when it takes the next message.
					rec.record(c)
					switch {
					case c.Uncounted && c.Attempt != nil: // the channel is down (a deferral logs no attempt)
						p.failed(time.Now(), c.Attempt.Error)
					case c.Attempt != nil && p.worked():
						poke(wake) // resumed: claim a full batch now
					}
					<-slots
					poke(freed)
				})
			}
		}
		if got > 0 && got == want && want > 1 {
			continue // a full batch: more are probably due
		}
		// A freed slot is worth a claim only when slots, not the queue,
		// were the limit: else each send finishing would cost a query.
		slotFreed := freed
		if drained && !waitFreed {
			slotFreed = nil
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-poll.C:
		case <-slotFreed:
		case <-probeC:
		}
	}
}

// newPause returns the pause state of one channel's pump.
func (d *Dispatcher) newPause(ch gateway.Channel, log *slog.Logger) *pause {
	p := &pause{min: d.PauseMin, max: d.PauseMax, log: log}
	if m := d.Metrics; m != nil {
		g := m.DeliveryChannelPaused.WithLabelValues(string(ch))
		g.Set(0)
		p.changed = func(down bool) {
			if down {
				g.Set(1)
			} else {
				g.Set(0)
			}
		}
	}
	return p
}

// Concurrent is implemented by channels that bound their own concurrency,
// such as the SMTP pool with its max_conns connections. The dispatcher
// then keeps at most BacklogFactor times that many of the channel's
// deliveries claimed: enough to keep every connection busy while other
// workers wait for their outcomes to commit, and few enough that claimed
// rows do not queue in memory for a connection (after a crash, those rows
// would wait out their lease).
type Concurrent interface {
	Concurrency() int
}

// BacklogFactor is how many deliveries per connection of a Concurrent
// channel the dispatcher keeps claimed. At 4 the claims and the outcome
// groups of an email fan-out held a handful of rows each (4 on average on
// PostgreSQL), and their per-statement cost, a commit each, came to half
// the database's work; 8 doubles both batches and raised the rate by
// about a fifth.
const BacklogFactor = 8

// workers is how many of n's deliveries may be claimed and in hand at once.
func (d *Dispatcher) workers(n Notifier) int {
	if c, ok := n.(Concurrent); ok && c.Concurrency() > 0 {
		return max(1, min(d.Workers, BacklogFactor*c.Concurrency()))
	}
	return d.Workers
}

// batch is one claim: its deliveries and what sending them needs.
type batch struct {
	owner      string
	deliveries []gateway.Delivery
	events     map[string]*gateway.Event
	recipients map[string]*store.Recipient
}

// claim leases up to n due deliveries of ch under a fresh owner name, and
// those whose lease expired when expired is set, and loads their events
// and subscribers. The database work runs to its end
// even when ctx ends meanwhile: a claim cut off mid-way may have committed,
// and rows nobody knows it holds would wait out their lease. Rows claimed
// when ctx has ended are given back unsent.
func (d *Dispatcher) claim(ctx context.Context, ch gateway.Channel, n int, expired bool) (batch, error) {
	b := batch{owner: fmt.Sprintf("%s:%s:%d", d.Owner, ch, d.seq.Add(1))}
	dbctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	claim := d.Store.ClaimDue
	if expired {
		claim = d.Store.ClaimDeliveries
	}
	ds, err := claim(dbctx, b.owner, ch, n, d.Lease, d.Now())
	if err != nil || len(ds) == 0 {
		return batch{}, err
	}
	b.events, b.recipients, err = d.Store.Batch(dbctx, ds)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		// Give the rows back rather than leave them to their lease.
		if _, rerr := d.Store.ReleaseDeliveries(dbctx, b.owner); rerr != nil {
			d.Log.Warn("release deliveries", "owner", b.owner, "err", rerr)
		}
		return batch{}, err
	}
	b.deliveries = ds
	return b, nil
}

// leaseLoop extends this process's leases while it runs, so that only a
// process that stopped loses its deliveries to another.
func (d *Dispatcher) leaseLoop(ctx context.Context) {
	t := time.NewTicker(d.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := d.Store.ExtendLeases(ctx, d.Owner+":", d.Now().Add(d.Lease)); err != nil && ctx.Err() == nil {
			d.Log.Warn("extend leases", "err", err)
		}
	}
}

// planLoop plans the outbox: events written by other transactions or
// processes, planned here at the latest one poll after they were written.
func (d *Dispatcher) planLoop(ctx context.Context) {
	t := time.NewTicker(d.Poll)
	defer t.Stop()
	for {
		if events, _, err := d.planner().PlanPending(ctx); err != nil && ctx.Err() == nil {
			d.Log.Warn("plan pending events", "err", err)
		} else if events == pendingBatch {
			continue // more may be pending
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wakePlan:
		case <-t.C:
		}
	}
}

// statsLoop refreshes the queue gauges from the database, so every replica
// reports the one shared queue.
func (d *Dispatcher) statsLoop(ctx context.Context) {
	if d.Metrics == nil {
		return
	}
	t := time.NewTicker(d.StatsEvery)
	defer t.Stop()
	lastSent, lastAt := map[gateway.Channel]int64{}, time.Now()
	// The lag is of the channels this dispatcher sends on.
	chans := slices.Collect(maps.Keys(d.Notifiers))
	for {
		at := time.Now()
		for ch, n := range d.sentBy {
			sent := n.Load()
			if secs := at.Sub(lastAt).Seconds(); secs > 0 {
				d.Metrics.DeliverySendRate.WithLabelValues(string(ch)).Set(float64(sent-lastSent[ch]) / secs)
			}
			lastSent[ch] = sent
		}
		lastAt = at
		now := d.Now()
		if st, err := d.Store.QueueStats(ctx, now, chans); err != nil {
			if ctx.Err() == nil {
				d.Log.Warn("queue stats", "err", err)
			}
		} else {
			for status, n := range st.Depth {
				d.Metrics.DeliveryQueueDepth.WithLabelValues(string(status)).Set(float64(n))
			}
			lag := 0.0
			if !st.OldestDue.IsZero() {
				lag = max(0, now.Sub(st.OldestDue).Seconds())
			}
			d.Metrics.DeliveryQueueLag.Set(lag)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Dispatcher) lost(ids []int64) {
	if len(ids) == 0 {
		return
	}
	d.Log.Warn("outcomes not recorded: the leases had expired and other workers took the deliveries",
		"deliveries", len(ids), "first", ids[0])
	if d.Metrics != nil {
		d.Metrics.DeliveryLeasesLost.Add(float64(len(ids)))
	}
}
