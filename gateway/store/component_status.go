package store

import (
	"context"

	"github.com/heraldstatus/herald/gateway"
)

// ActiveStatus is a status that active alerts give one component; each
// such pair comes once.
type ActiveStatus struct {
	ComponentID string
	Status      gateway.ComponentStatus
}

// ActiveComponentStatuses lists, per component, the statuses its firing (or
// flapping) alerts give it. It reads every active alert, so the reconcile
// pass calls it before its write transaction, where it holds up no writer
// (SQLite's readers run beside its one writer), and checks what it acts
// on inside (ComponentActiveStatuses).
func (s *Store) ActiveComponentStatuses(ctx context.Context) ([]ActiveStatus, error) {
	var out []ActiveStatus
	err := s.db.SelectContext(ctx, &out, s.q.ActiveCompStatuses)
	return out, wrap("active component statuses", err)
}

// ActiveComponentStatuses is the store's method of the same name, inside
// the transaction.
func (t *Tx) ActiveComponentStatuses() ([]ActiveStatus, error) {
	var out []ActiveStatus
	err := t.tx.SelectContext(t.ctx, &out, t.s.q.ActiveCompStatuses)
	return out, wrap("active component statuses", err)
}

// ComponentActiveStatuses returns the statuses active alerts give one
// component.
func (t *Tx) ComponentActiveStatuses(componentID string) ([]gateway.ComponentStatus, error) {
	var out []gateway.ComponentStatus
	err := t.tx.SelectContext(t.ctx, &out, t.s.q.CompActiveStatuses, componentID, componentID)
	return out, wrap("component active statuses", err)
}

// ComponentsUnderMaintenance returns the components of maintenances in progress.
func (t *Tx) ComponentsUnderMaintenance() (map[string]bool, error) {
	var ids []string
	if err := t.tx.SelectContext(t.ctx, &ids, t.s.q.CompsInMaintenance); err != nil {
		return nil, wrap("components under maintenance", err)
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// Components lists every component inside the transaction.
func (t *Tx) Components() ([]gateway.Component, error) {
	var out []gateway.Component
	err := t.tx.SelectContext(t.ctx, &out, t.s.q.ListComponents)
	return out, wrap("list components", err)
}

// SetComponentStatus moves a component from old to new and records the
// change (with its reason and incident) in the status history, the record
// the uptime bars are computed from. It does nothing when the component is
// no longer at old (someone else moved it first) and reports whether it
// changed anything.
func (t *Tx) SetComponentStatus(id string, old, new gateway.ComponentStatus, reason, incidentID string) (bool, error) {
	now := t.s.now()
	n, err := t.exec("set component status", t.s.q.SetComponentStatus, new, now, now, id, old)
	if err != nil || n == 0 {
		return false, err
	}
	_, err = t.exec("record status change", t.s.q.InsertStatusChange, id, old, new, reason, incidentID, now)
	return err == nil, err
}

// SetManualStatus sets or ("" ) clears support's override of a component.
func (t *Tx) SetManualStatus(id string, st gateway.ComponentStatus) error {
	_, err := t.exec("set manual status", t.s.q.SetManualStatus, string(st), t.s.now(), id)
	return err
}

// ComponentGroups lists every group inside the transaction.
func (t *Tx) ComponentGroups() ([]gateway.ComponentGroup, error) {
	var out []gateway.ComponentGroup
	err := t.tx.SelectContext(t.ctx, &out, t.s.q.ListGroups)
	return out, wrap("list groups", err)
}
