package notify

import (
	"context"
	"time"

	"github.com/heraldstatus/herald/gateway/store"
)

// recordBatch bounds the outcomes written in one transaction.
const recordBatch = 512

// sqliteLinger is how long SQLite's one outcome writer waits for more
// outcomes before it writes a group, when the group before had more than
// one (the senders are busy). Each group is a transaction whose commit
// writes its pages to the log and syncs it; under a fan-out the groups
// held 4–5 outcomes on average, and paying that per handful of messages
// was a large part of recording them. Alternating runs of the SQLite
// fan-out benchmarks at 30,000 subscribers: with 300 µs, Herald spent
// 278–366 µs of CPU per email against 349–384, and sent 5–15 % more
// webhooks; 1 ms helped emails as much but held webhook senders too long.
// PostgreSQL's writer does not wait: its log already shares a sync among
// concurrent commits, and waiting (measured with four writers) slowed its
// webhooks. A sender waits at most this much longer for its outcome's
// commit, and a crash can re-send at most the messages accepted
// meanwhile, as before.
const sqliteLinger = 300 * time.Microsecond

// recorder writes outcomes in one transaction per group (group commit),
// and a sender waits for the commit of its outcome before it takes its
// next message. Under light load each outcome is written at once; under
// heavy load the outcomes that arrive while one group is being written
// form the next (on SQLite, waiting sqliteLinger for more), so one
// transaction carries many and a single SQLite writer keeps up with
// thousands of sends a second.
//
// Waiting is what makes a crash cheap: a delivery is "sent" in the
// database before its worker sends anything else, so after a SIGKILL the
// only messages sent again are those a receiver accepted in the moments
// between its reply and the commit (at most one per busy worker, in
// practice a handful).
type recorder struct {
	d      *Dispatcher
	in     chan pendingOutcome
	done   chan struct{}
	linger time.Duration // see sqliteLinger
}

// pendingOutcome is an outcome and the signal that it is written.
type pendingOutcome struct {
	c       store.Completion
	written chan struct{}
}

// newRecorder starts the writer: one, on both stores. SQLite has one
// writer anyway, and more would only queue. PostgreSQL ran four, so that a
// group started as soon as outcomes waited; but each group is a statement
// and a commit whose fixed cost is most of what a small group costs the
// server, and four writers split the outcomes into groups a quarter the
// size. With one, the outcomes that arrive during a commit form the next
// group, and the PostgreSQL fan-out benchmarks sent more in alternating
// runs (docs/performance.md has the figures). A sender waits for at most
// the commit in progress and its own, so what a crash can re-send stays
// near two round trips of sends.
func newRecorder(d *Dispatcher) *recorder {
	r := &recorder{d: d, in: make(chan pendingOutcome, recordBatch), done: make(chan struct{})}
	if d.Store.Dialect() == store.SQLite {
		r.linger = sqliteLinger
	}
	go func() {
		r.run()
		close(r.done)
	}()
	return r
}

// record hands over an outcome and returns once it is committed (or, with
// the database unreachable for a whole lease, given up: the row's lease
// then expires and the delivery is sent again, which is the best left).
func (r *recorder) record(c store.Completion) {
	p := pendingOutcome{c: c, written: make(chan struct{})}
	r.in <- p
	<-p.written
}

// close returns once every outcome handed over is written. Call it after
// every sender has returned.
func (r *recorder) close() {
	close(r.in)
	<-r.done
}

func (r *recorder) run() {
	group := make([]pendingOutcome, 0, recordBatch)
	cs := make([]store.Completion, 0, recordBatch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	busy := false
	for p := range r.in {
		group = append(group[:0], p)
		var wait <-chan time.Time
		if busy && r.linger > 0 {
			linger.Reset(r.linger)
			wait = linger.C
		}
	more:
		for len(group) < recordBatch {
			var p pendingOutcome
			var ok bool
			if wait == nil {
				select {
				case p, ok = <-r.in:
				default:
					break more
				}
			} else {
				select {
				case p, ok = <-r.in:
				case <-wait:
					wait = nil
					break more
				}
			}
			if !ok {
				break more
			}
			group = append(group, p)
		}
		if wait != nil {
			linger.Stop() // no stale tick stays in the channel (Go 1.23 timers)
		}
		busy = len(group) > 1
		cs = cs[:0]
		for _, p := range group {
			cs = append(cs, p.c)
		}
		r.write(cs)
		for _, p := range group {
			close(p.written)
		}
	}
}

// write records a group, retrying while the database is unreachable: the
// messages went out, and recording them is what keeps them from going out
// again. Meanwhile the senders wait, so sending stops too. It gives up once
// the leases must have expired, when another worker will have taken the
// rows anyway.
func (r *recorder) write(cs []store.Completion) {
	d := r.d
	giveUp := time.Now().Add(d.Lease)
	wait := 100 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		lost, err := d.Store.CompleteDeliveries(ctx, cs)
		cancel()
		if err == nil {
			d.lost(lost)
			return
		}
		if time.Now().After(giveUp) {
			d.Log.Error("record delivery outcomes: giving up; these deliveries will be sent again",
				"deliveries", len(cs), "first", cs[0].DeliveryID, "err", err)
			return
		}
		d.Log.Warn("record delivery outcomes, retrying", "deliveries", len(cs), "err", err, "retry_in", wait)
		time.Sleep(wait)
		wait = min(2*wait, 5*time.Second)
	}
}
