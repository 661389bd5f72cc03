package ingest

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// Group commit. A request is answered 202 only once its alerts are
// committed, and every transaction pays fixed costs (BEGIN, the commit,
// the write-ahead log) however few alerts it carries. So the requests of
// one source that arrive while that source's transactions are all busy
// wait for one to finish, then share the next: under light load a request
// commits alone at once (no added wait, no hand-off to another goroutine),
// under load each transaction carries several requests. It pays most on
// SQLite, whose one writer serializes every transaction anyway; what it
// was measured to gain is in docs/performance.md, not here, since figures
// go stale with the machine they were taken on.
//
// A request's content is validated (decoded, normalized) before it is
// queued, so that one bad request is refused on its own. A transaction
// that fails anyway is retried request by request, so that each is
// answered for itself; only a database that is unavailable fails the
// whole batch at once (each request alone would meet the same outage).

// maxBatchAlerts bounds the alerts one shared transaction carries (a
// bigger request commits alone): a transaction holds its rows' locks
// until it commits, and a long one would make every request in it wait.
const maxBatchAlerts = 1000

// commitJob is one request waiting for its alerts to be committed.
type commitJob struct {
	ctx    context.Context // the request's, bounded by StoreTimeout
	source string          // id
	alerts []gateway.Alert // normalized
	now    time.Time
	res    Result // set by the committer before done is closed
	err    error
	done   chan struct{}
}

// committer queues jobs per source and runs at most limit transactions of
// one source at a time. Sources commit independently: their alerts never
// share rows.
type committer struct {
	limit  int
	mu     sync.Mutex
	queues map[string]*commitQueue // by source id; removed when idle
}

type commitQueue struct {
	jobs    []*commitJob
	queued  int // alerts in jobs
	running int // transactions in flight
}

// laneAlerts is how many alerts must be waiting before another of a
// source's transactions starts beside a running one. What a transaction
// costs apart from its rows (on PostgreSQL the statement's start, its
// commit and WAL flush, the round trips) is most of what a few alerts
// cost, and one transaction carries every request that waits; so single
// alerts wait for the running transaction and share the next, and only
// work worth a transaction of its own (requests of many alerts, whose rows
// two cores write faster side by side) takes another lane. A fixed count
// serves only one of the two: one lane was best for single alerts and
// eight for batches of 100 (docs/performance.md has the figures).
const laneAlerts = 64

// commitLimit is how many transactions of one source run at once. SQLite
// has one writer, so more would only wait for it: there every request
// that arrives during a transaction joins the next one. PostgreSQL runs
// the statements of several transactions side by side, so it gets eight
// lanes, taken as laneAlerts says: under light load each request commits
// alone at once, a stream of small requests shares one transaction, and
// large requests write in up to eight at a time.
func commitLimit(st *store.Store, opt int) int {
	switch {
	case opt > 0:
		return opt
	case st.Dialect() == store.SQLite:
		return 1
	}
	return 8
}

// commit queues j and waits until its alerts are committed (or not), or
// until j's context ends: then the alerts may still be committed, which a
// retry of the request deduplicates.
func (s *Service) commit(j *commitJob) (Result, error) {
	j.done = make(chan struct{})
	c := &s.commits
	c.mu.Lock()
	if c.queues == nil {
		c.queues = map[string]*commitQueue{}
	}
	q := c.queues[j.source]
	if q == nil {
		q = &commitQueue{}
		c.queues[j.source] = q
	}
	q.jobs = append(q.jobs, j)
	q.queued += len(j.alerts)
	start := q.running == 0 || q.running < c.limit && q.queued >= laneAlerts
	if start {
		q.running++
	}
	c.mu.Unlock()
	if start {
		// This request leads: it commits in its own goroutine (no
		// hand-off when nothing else is waiting, which is most of the time
		// under light load) and passes the lane on once it is answered.
		s.drain(j.source, q, j)
	}
	select {
	case <-j.done:
		return j.res, j.err
	case <-j.ctx.Done():
		return Result{Received: len(j.alerts)}, abandoned(j.ctx.Err())
	}
}

// abandoned is the error of a request that stopped waiting for its commit.
func abandoned(err error) error {
	return &gateway.Error{Code: gateway.EUNAVAILABLE, RetryAfter: time.Second, Err: err,
		Message: "The alerts were not confirmed stored in time; sending them again is safe."}
}

// drain commits q's jobs, batch after batch, until none is left, in the
// lane (one of limit) its caller took. A leading request (own) drains only
// until it is answered itself, then hands the lane to a goroutine if more
// jobs wait.
func (s *Service) drain(source string, q *commitQueue, own *commitJob) {
	c := &s.commits
	for {
		c.mu.Lock()
		var batch []*commitJob
		if own == nil || !answered(own) {
			batch = takeBatch(q)
		}
		if len(batch) == 0 {
			if own != nil && len(q.jobs) > 0 {
				c.mu.Unlock()
				go s.drain(source, q, nil)
				return
			}
			q.running--
			if q.running == 0 && len(q.jobs) == 0 {
				delete(c.queues, source)
			}
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		s.commitBatch(batch)
	}
}

func answered(j *commitJob) bool {
	select {
	case <-j.done:
		return true
	default:
		return false
	}
}

// takeBatch removes the next batch from q: the first job whatever its
// size, then the following ones while they fit in maxBatchAlerts. A job
// whose request has stopped waiting is dropped.
func takeBatch(q *commitQueue) []*commitJob {
	var batch []*commitJob
	n, i := 0, 0
	for ; i < len(q.jobs); i++ {
		j := q.jobs[i]
		if j.ctx.Err() != nil {
			j.err = abandoned(j.ctx.Err())
			close(j.done)
			q.queued -= len(j.alerts)
			continue
		}
		if len(batch) > 0 && n+len(j.alerts) > maxBatchAlerts {
			break
		}
		batch, n = append(batch, j), n+len(j.alerts)
		q.queued -= len(j.alerts)
	}
	clear(q.jobs[:i]) // let the jobs go
	q.jobs = q.jobs[i:]
	return batch
}

// commitBatch writes batch in one transaction and answers its jobs. When
// the transaction fails for another reason than an unavailable database,
// each job is committed alone, so that the others do not share one's
// failure.
func (s *Service) commitBatch(batch []*commitJob) {
	start := time.Now()
	err := s.write(batch)
	s.opt.Metrics.IngestCommitRequests.Observe(float64(len(batch)))
	s.opt.Metrics.IngestCommitDuration.Observe(time.Since(start).Seconds())
	if err != nil && len(batch) > 1 && gateway.ErrorCode(err) != gateway.EUNAVAILABLE {
		s.log.Warn("a shared ingest transaction failed; committing its requests one by one",
			"requests", len(batch), "err", err)
		for _, j := range batch {
			s.commitBatch([]*commitJob{j})
		}
		return
	}
	for _, j := range batch {
		if err != nil {
			j.res, j.err = Result{Received: len(j.alerts)}, err
		}
		close(j.done)
	}
}

// write stores the alerts of batch (all of one source) in one
// transaction, deduplicated in order against what is stored and routed by
// the first matching rule, and sets each job's result.
func (s *Service) write(batch []*commitJob) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.opt.StoreTimeout)
	defer cancel()
	p := newPlan(batch, s.opt.FlapWindow)
	var at time.Time
	for _, j := range batch {
		if j.now.After(at) {
			at = j.now
		}
	}
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if p.rules, err = s.rules.get(ctx); err != nil {
			break
		}
		err = s.store.UpsertAlerts(ctx, batch[0].source, p.fps, at, p.merge)
		// A rule or component deleted since the rules were cached fails
		// the write on a foreign key: reload the rules and try once more.
		if gateway.ErrorCode(err) != gateway.EUNPROCESSABLE {
			break
		}
		s.rules.invalidate()
	}
	if err != nil {
		return s.storeError(err)
	}
	p.results()
	return nil
}

// plan merges the alerts of a batch into the stored records, part of the
// fingerprints after part (see store.MergeFunc), and counts what became
// of each alert. Memory is what it is careful of: a request of the largest
// size holds some 60,000 alerts, so it keeps of each alert one byte of
// outcome and its place in fingerprint order, and of the records only
// those of the part being written.
type plan struct {
	batch      []*commitJob
	flapWindow time.Duration
	rules      []gateway.Rule
	fps        []string   // the batch's fingerprints, in order of arrival
	order      []alertRef // every alert of the batch, by fingerprint, then in order of arrival
	outcomes   [][]uint8  // per job and alert: its Outcome, and unroutedFlag
}

// alertRef is one alert of a batch: the job's index and the alert's.
type alertRef struct{ job, alert int32 }

// unroutedFlag marks, in a plan's outcomes, an alert whose record no rule
// routes once the batch is merged.
const unroutedFlag = 0x80

func newPlan(batch []*commitJob, flapWindow time.Duration) *plan {
	p := &plan{batch: batch, flapWindow: flapWindow, outcomes: make([][]uint8, len(batch))}
	for k, j := range batch {
		p.outcomes[k] = make([]uint8, len(j.alerts))
		for i := range j.alerts {
			p.fps = append(p.fps, j.alerts[i].Fingerprint)
			p.order = append(p.order, alertRef{int32(k), int32(i)})
		}
	}
	slices.SortStableFunc(p.order, func(a, b alertRef) int { return strings.Compare(p.fp(a), p.fp(b)) })
	return p
}

func (p *plan) fp(r alertRef) string { return p.batch[r.job].alerts[r.alert].Fingerprint }

// merge is the store.MergeFunc of the plan: it merges the alerts of part's
// fingerprints, job after job and in order, into the stored records and
// routes the ones that changed; it returns what to write and notes each
// alert's outcome.
func (p *plan) merge(part []string, stored map[string]*store.AlertRecord) ([]*store.AlertRecord, error) {
	if len(part) == 0 {
		return nil, nil
	}
	first := sort.Search(len(p.order), func(n int) bool { return p.fp(p.order[n]) >= part[0] })
	last := part[len(part)-1]
	end := first
	for end < len(p.order) && p.fp(p.order[end]) <= last {
		end++
	}
	refs := p.order[first:end]
	dirty := map[string]bool{}
	for _, r := range refs {
		j := p.batch[r.job]
		a := &j.alerts[r.alert]
		rec, out := merge(stored[a.Fingerprint], a, j.now, p.flapWindow)
		p.outcomes[r.job][r.alert] = uint8(out)
		if out != Stale {
			stored[a.Fingerprint], dirty[a.Fingerprint] = rec, true
		}
	}
	writes := make([]*store.AlertRecord, 0, len(dirty))
	for fp := range dirty {
		route(stored[fp], p.rules)
		writes = append(writes, stored[fp])
	}
	for _, r := range refs {
		if out := &p.outcomes[r.job][r.alert]; Outcome(*out) != Stale && stored[p.fp(r)].RuleID == "" {
			*out |= unroutedFlag
		}
	}
	return writes, nil
}

// results sets each job's counts from the outcomes of the last merge.
func (p *plan) results() {
	for k, j := range p.batch {
		res := Result{Received: len(j.alerts)}
		for _, out := range p.outcomes[k] {
			switch Outcome(out &^ unroutedFlag) {
			case Accepted:
				res.Accepted++
			case Deduplicated:
				res.Deduplicated++
			case Stale:
				res.Stale++
				continue
			}
			if out&unroutedFlag != 0 {
				res.Unrouted++
			}
		}
		j.res = res
	}
}
