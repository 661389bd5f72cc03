package notify

import (
	"context"
	"time"

	"github.com/heraldstatus/herald/gateway/store"
)

// recordBatch bounds the outcomes written in one transaction.
const recordBatch = 512

// recorder writes outcomes as they come, in one transaction per group
// (group commit): under light load each outcome is written at once, under
// heavy load one transaction carries hundreds, which is what lets a single
// SQLite writer keep up with thousands of sends a second. A send's outcome
// waits here for milliseconds, so a crash re-sends at most the messages in
// flight or just finished.
type recorder struct {
	d    *Dispatcher
	in   chan store.Completion
	done chan struct{}
}

func newRecorder(d *Dispatcher) *recorder {
	r := &recorder{d: d, in: make(chan store.Completion, 4*recordBatch), done: make(chan struct{})}
	go r.run()
	return r
}

// add hands over an outcome; it blocks while the database is far behind,
// which slows the senders down instead of piling up outcomes in memory.
func (r *recorder) add(c store.Completion) { r.in <- c }

// close writes what is left and returns when it is written.
func (r *recorder) close() {
	close(r.in)
	<-r.done
}

func (r *recorder) run() {
	defer close(r.done)
	buf := make([]store.Completion, 0, recordBatch)
	for c := range r.in {
		buf = append(buf[:0], c)
	more:
		for len(buf) < recordBatch {
			select {
			case c, ok := <-r.in:
				if !ok {
					break more
				}
				buf = append(buf, c)
			default:
				break more
			}
		}
		r.write(buf)
	}
}

// write records a group, retrying while the database is unreachable: the
// messages went out, and recording them is what keeps them from going out
// again. It gives up once the leases must have expired, when another
// worker will have taken the rows anyway.
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
