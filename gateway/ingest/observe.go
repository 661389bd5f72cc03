package ingest

import (
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// UnknownSource is the source label of requests that named no source, so
// that made-up names cannot grow the metrics without bound.
const UnknownSource = "unknown"

// Observe records one ingest request in the metrics: its duration, its
// alerts by outcome, the unrouted ones, and, when err is not nil, the
// rejection by reason (the error code). source is the source's name, or
// UnknownSource.
func (s *Service) Observe(source string, took time.Duration, res Result, err error) {
	m := s.opt.Metrics
	m.IngestDuration.WithLabelValues(source).Observe(took.Seconds())
	if err != nil {
		m.IngestRejected.WithLabelValues(source, gateway.ErrorCode(err)).Inc()
		return
	}
	for _, c := range []struct {
		outcome Outcome
		n       int
	}{{Accepted, res.Accepted}, {Deduplicated, res.Deduplicated}, {Stale, res.Stale}} {
		if c.n > 0 {
			m.IngestAlerts.WithLabelValues(source, c.outcome.String()).Add(float64(c.n))
		}
	}
	if res.Unrouted > 0 {
		m.IngestUnrouted.WithLabelValues(source).Add(float64(res.Unrouted))
	}
}
