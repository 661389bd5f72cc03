package notify

import (
	"context"
	"sync"
	"time"

	"github.com/heraldstatus/herald/gateway/store"
)

// recordBatch bounds the outcomes written in one transaction.
const recordBatch = 512

// recorder writes outcomes in one transaction per group (group commit),
// and a sender waits for the commit of its outcome before it takes its
// next message. Under light load each outcome is written at once; under
// heavy load the outcomes that arrive while one group is being written
// form the next, so one transaction carries hundreds and a single SQLite
// writer keeps up with thousands of sends a second.
//
// Waiting is what makes a crash cheap: a delivery is "sent" in the
// database before its worker sends anything else, so after a SIGKILL the
// only messages sent again are those a receiver accepted in the moments
// between its reply and the commit (at most one per busy worker, in
// practice a handful).
type recorder struct {
	d    *Dispatcher
	in   chan pendingOutcome
	done chan struct{}
}

// pendingOutcome is an outcome and the signal that it is written.
type pendingOutcome struct {
	c       store.Completion
	written chan struct{}
}

// newRecorder starts the writers: one on SQLite, whose single writer
// would only queue more; several on PostgreSQL, so a group starts as soon
// as outcomes wait, not when the previous group's commit returns. The
// time between a receiver's acceptance and the commit is what a crash can
// re-send; parallel commits keep it near one round trip.
func newRecorder(d *Dispatcher) *recorder {
	r := &recorder{d: d, in: make(chan pendingOutcome, recordBatch), done: make(chan struct{})}
	writers := 1
	if d.Store.Dialect() == store.Postgres {
		writers = 4
	}
	var wg sync.WaitGroup
	for range writers {
		wg.Go(r.run)
	}
	go func() {
		wg.Wait()
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
	for p := range r.in {
		group = append(group[:0], p)
	more:
		for len(group) < recordBatch {
			select {
			case p, ok := <-r.in:
				if !ok {
					break more
				}
				group = append(group, p)
			default:
				break more
			}
		}
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
