package store

import (
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// FlapState is what flap detection needs of an alert.
type FlapState struct {
	ID                int64
	Flapping          bool
	StateChanges      int
	StateChangesSince optTime
	Status            gateway.AlertStatus
	StartsAt          time.Time
	EndsAt            optTime
}

// LastChange is when the alert last changed state, as far as its times tell.
func (f FlapState) LastChange() time.Time {
	if f.EndsAt.After(f.StartsAt) {
		return f.EndsAt.Time
	}
	return f.StartsAt
}

// FlappingAlerts lists the alerts marked flapping.
func (t *Tx) FlappingAlerts() ([]FlapState, error) {
	var out []FlapState
	err := t.tx.SelectContext(t.ctx, &out, t.s.q.FlappingAlerts)
	return out, wrap("flapping alerts", err)
}

// SetFlapping marks or clears an alert as flapping.
func (t *Tx) SetFlapping(id int64, flapping bool) error {
	_, err := t.exec("set flapping", t.s.q.SetFlapping, flapping, id)
	return err
}
