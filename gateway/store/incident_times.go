package store

import (
	"time"
)

// LastNotified returns when the incident's last notification event was
// written, or zero when none was.
func (t *Tx) LastNotified(incidentID string) (time.Time, error) {
	var at optTime
	zero := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := t.tx.GetContext(t.ctx, &at, t.s.q.LastIncidentEvent, zero, incidentID); err != nil {
		return time.Time{}, wrap("last incident event", err)
	}
	if at.Year() <= 1 {
		return time.Time{}, nil
	}
	return at.Time, nil
}

// LatestUpdateAt returns when the incident's newest update was written.
func (t *Tx) LatestUpdateAt(incidentID string) (time.Time, error) {
	var at optTime
	zero := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := t.tx.GetContext(t.ctx, &at, t.s.q.LatestUpdateTime, zero, incidentID); err != nil {
		return time.Time{}, wrap("latest update", err)
	}
	if at.Year() <= 1 {
		return time.Time{}, nil
	}
	return at.Time, nil
}
