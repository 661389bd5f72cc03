package http

import (
	"context"
	"math"
	"runtime/debug"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/heraldstatus/herald/gateway"
)

// decodedExpansion is how many times its size a body may make the process
// grow while it is decoded and stored. A 10 MiB Alertmanager body of
// 66,000 small alerts (the costliest shape: most of a body's memory is per
// alert) keeps about 70 MiB live at its peak, the body included: about
// 960 bytes per alert, the decoded alert (its struct, its label map, its
// share of the body's JSON) and the records of the part being written
// (`go test ./gateway/ingest -run '^$' -bench IngestMemory -benchtime 1x`,
// docs/performance.md). That is 7 times the body, and Herald's collector
// (GOGC=400, internal/gctune) lets the heap grow to five times what is
// live before it collects: about 35 times the body, of which GOMEMLIMIT's
// soft limit takes back the last few by collecting sooner.
const decodedExpansion = 32

// ingestBudget bounds the ingest bodies being read, decoded and stored at
// once, by their size, so that many large requests at the same time wait
// for each other instead of raising the process's memory past GOMEMLIMIT
// (the Go runtime's soft limit, which a live heap above it ignores). The
// budget is GOMEMLIMIT/decodedExpansion, and never less than one body of
// the largest size (limits.ingest_body); without a memory limit, four such
// bodies. Small bodies, the usual ones, take almost nothing of it.
type ingestBudget struct {
	sem   *semaphore.Weighted
	total int64
	limit int64 // the body limit: the weight of a body of unknown length
}

func newIngestBudget(bodyLimit int64) *ingestBudget {
	total := 4 * bodyLimit
	if ml := debug.SetMemoryLimit(-1); ml > 0 && ml < math.MaxInt64 {
		total = max(ml/decodedExpansion, bodyLimit)
	}
	return &ingestBudget{sem: semaphore.NewWeighted(total), total: total, limit: bodyLimit}
}

// budgetWait bounds how long a request waits for its share of the budget
// before it is answered 503 (senders retry, and nothing was stored).
const budgetWait = 10 * time.Second

// acquire takes the share of a body of contentLength (-1: unknown) and
// returns its release; EUNAVAILABLE with RetryAfter when the share does
// not come free in time.
func (b *ingestBudget) acquire(ctx context.Context, contentLength int64) (func(), error) {
	n := b.limit
	if contentLength >= 0 && contentLength < n {
		n = contentLength
	}
	n = min(max(n, 1), b.total)
	ctx, cancel := context.WithTimeout(ctx, budgetWait)
	defer cancel()
	if err := b.sem.Acquire(ctx, n); err != nil {
		return func() {}, &gateway.Error{Code: gateway.EUNAVAILABLE, RetryAfter: 5 * time.Second, Err: err,
			Message: "Herald is busy storing other large requests; sending this one again is safe."}
	}
	return func() { b.sem.Release(n) }, nil
}
