package store

import (
	"context"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// episodeQueries are the statements of queries/episodes.sql.
type episodeQueries struct {
	ExpireAlerts     string `query:"expire-alerts"`
	AlertsDue        string `query:"alerts-due-to-expire"`
	DetachFiring     string `query:"detach-firing-alerts"`
	HasSteadyAlert   string `query:"component-has-steady-alert"`
	SetComponentHeld string `query:"set-component-held"`
}

// ExpireAlerts resolves the firing alerts whose end is at or before now,
// in a transaction of its own (none when a read finds none due), and reports how many it resolved. Each
// resolution counts as a state change for flap detection, with a count
// that restarts after flapWindow, as ingest counts one.
func (s *Store) ExpireAlerts(ctx context.Context, now time.Time, flapWindow time.Duration) (int64, error) {
	now = storedTime(now)
	var due int
	if err := s.db.GetContext(ctx, &due, s.q.AlertsDue, now); err != nil || due == 0 {
		return 0, wrap("alerts due to expire", err)
	}
	var n int64
	err := s.InTx(ctx, func(tx *Tx) (err error) {
		n, err = tx.exec("expire alerts", s.q.ExpireAlerts, now.Add(-flapWindow), now.Add(-flapWindow), now, now)
		return err
	})
	return n, err
}

// DetachFiringAlerts takes the firing alerts of an incident out of it:
// the incident closed while they fire, and their episode must be placed
// again (a closed incident explains no red component). Their membership
// stays recorded in incident_alerts.
func (t *Tx) DetachFiringAlerts(incidentID string) error {
	_, err := t.exec("detach firing alerts", t.s.q.DetachFiring, incidentID)
	return err
}

// HasSteadyAlert reports whether a firing alert that is not flapping
// affects the component.
func (t *Tx) HasSteadyAlert(componentID string) (bool, error) {
	var n int
	err := t.tx.GetContext(t.ctx, &n, t.s.q.HasSteadyAlert, componentID)
	return n > 0, wrap("component has a steady alert", err)
}

// SetComponentHeld records why a component alerts made non-operational
// is in no open incident (gateway.Held*), or "" for nothing.
func (t *Tx) SetComponentHeld(componentID string, held gateway.Held) error {
	_, err := t.exec("set component held", t.s.q.SetComponentHeld, string(held), componentID, string(held))
	return err
}
