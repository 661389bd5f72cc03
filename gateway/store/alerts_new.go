package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// New alerts in one statement. On PostgreSQL every statement of a
// transaction is a round trip, and a request of new alerts took five
// (BEGIN, the lock of its fingerprints, the insert of the alerts and of
// their components, COMMIT) besides the work itself: for single alerts the
// round trips, not the writes, were most of what Herald and PostgreSQL
// spent. So when a request's alerts are all new, which is what a source
// sends when something starts to break, they are inserted with their
// components by one statement that commits on its own (insert-new-alerts),
// all or nothing, and only a request with an alert stored already takes
// the transaction that reads, merges and writes.
//
// Trying costs a round trip when it fails, so a source whose requests
// repeat stored alerts (Alertmanager's resends, Prometheus' refreshes)
// soon stops trying: after a request that found one of its alerts stored,
// the source's next freshSkip requests go straight to the transaction,
// and then one tries again.

// freshSkip is how many requests of a source skip the one-statement path
// after one found an alert of its stored.
const freshSkip = 16

// newAlertRow is an alert as insert-new-alerts reads it from JSON.
type newAlertRow struct {
	Fingerprint       string  `json:"fingerprint"`
	Status            string  `json:"status"`
	Severity          string  `json:"severity"`
	Summary           string  `json:"summary"`
	Labels            string  `json:"labels"`
	Annotations       string  `json:"annotations"`
	GeneratorURL      string  `json:"generator_url"`
	Raw               string  `json:"raw"`
	StartsAt          string  `json:"starts_at"`
	EndsAt            *string `json:"ends_at"`
	ReceivedAt        string  `json:"received_at"`
	LastSeenAt        string  `json:"last_seen_at"`
	RuleID            string  `json:"rule_id"`
	StateChanges      int     `json:"state_changes"`
	StateChangesSince *string `json:"state_changes_since"`
}

// newLinkRow is one component of a new alert, named by its fingerprint.
type newLinkRow struct {
	Fingerprint string                  `json:"fingerprint"`
	ComponentID string                  `json:"component_id"`
	Status      gateway.ComponentStatus `json:"status"`
}

// tryNew reports whether a request of sourceID should try the
// one-statement path, and counts a skipped one.
func (q *alertQueries) tryNew(sourceID string) bool {
	v, ok := q.newSkips.Load(sourceID)
	if !ok {
		return true
	}
	n := v.(*atomic.Int32)
	if n.Load() <= 0 {
		return true
	}
	n.Add(-1)
	return false
}

// foundStored makes sourceID's next freshSkip requests skip the
// one-statement path.
func (q *alertQueries) foundStored(sourceID string) {
	v, _ := q.newSkips.LoadOrStore(sourceID, new(atomic.Int32))
	v.(*atomic.Int32).Store(freshSkip)
}

// NewAlertStatements counts the requests this store committed with
// insert-new-alerts, for tests that a path they mean to cover is taken.
func (s *Store) NewAlertStatements() int64 { return s.q.newCommits.Load() }

// upsertNew tries to store fps (sorted, at most one part) as new alerts
// in one statement: merge is asked what to write with nothing stored. It
// reports whether they were committed. Anything else than a database that
// cannot be reached (an alert stored already, a concurrent insert of one,
// a rule deleted meanwhile) leaves them to the transactional path, which
// merges with what is stored or fails as it would have.
func (s *Store) upsertNew(ctx context.Context, sourceID string, fps []string, at time.Time, merge MergeFunc) (bool, error) {
	writes, err := merge(fps, make(map[string]*AlertRecord, len(fps)))
	if err != nil || len(writes) == 0 {
		return false, err
	}
	alerts, links, err := s.newAlertsJSON(writes)
	if err != nil {
		return false, err
	}
	var got []struct {
		ID          int64
		Fingerprint string
	}
	err = s.wdb.SelectContext(ctx, &got, s.q.InsertNewAlerts, alerts, sourceID, sourceID, links)
	if err := ingestError("insert new alerts", err); gateway.ErrorCode(err) == gateway.EUNAVAILABLE {
		return false, err
	}
	if err != nil || len(got) != len(writes) {
		s.q.foundStored(sourceID)
		return false, nil
	}
	s.q.newCommits.Add(1)
	// The source's last alert time, at most once a second, as the
	// transaction would; a failure here loses nothing but that time.
	if touched, err := s.touchSource(ctx, sourceID, at, s.wdb.ExecContext); err == nil && touched {
		s.q.touched.Store(sourceID, at)
	}
	return true, nil
}

// newAlertsJSON encodes records to write, new ones, as insert-new-alerts'
// two arguments.
func (s *Store) newAlertsJSON(writes []*AlertRecord) (string, string, error) {
	rows := make([]newAlertRow, len(writes))
	var links []newLinkRow
	opt := func(t time.Time) *string {
		if t.IsZero() {
			return nil
		}
		v := s.jsonTime(t)
		return &v
	}
	for i, r := range writes {
		if r.ID != 0 {
			return "", "", fmt.Errorf("store: merge returned stored alert %d with nothing stored", r.ID)
		}
		rows[i] = newAlertRow{Fingerprint: r.Fingerprint, Status: string(r.Status), Severity: string(r.Severity),
			Summary: r.Summary, Labels: jsonMap(r.Labels), Annotations: jsonMap(r.Annotations),
			GeneratorURL: r.GeneratorURL, Raw: string(r.Raw), StartsAt: s.jsonTime(r.StartsAt), EndsAt: opt(r.EndsAt),
			ReceivedAt: s.jsonTime(r.ReceivedAt), LastSeenAt: s.jsonTime(r.LastSeenAt), RuleID: r.RuleID,
			StateChanges: r.StateChanges, StateChangesSince: opt(r.StateChangesSince)}
		for _, c := range r.Components {
			links = append(links, newLinkRow{Fingerprint: r.Fingerprint, ComponentID: c.ComponentID, Status: c.Status})
		}
	}
	a, err := json.Marshal(rows)
	if err != nil {
		return "", "", fmt.Errorf("store: new alerts: %w", err)
	}
	if links == nil {
		links = []newLinkRow{}
	}
	l, err := json.Marshal(links)
	if err != nil {
		return "", "", fmt.Errorf("store: new alerts: %w", err)
	}
	return string(a), string(l), nil
}
