package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/jmoiron/sqlx"
)

// PendingAlert is a firing, routed alert that belongs to no incident yet,
// with the components it was routed to.
type PendingAlert struct {
	ID         int64
	Labels     map[string]string
	Severity   gateway.Severity
	Flapping   bool
	Components []RoutedComponent
}

// RoutedComponent is one component an alert was routed to, with the status
// the alert gives it.
type RoutedComponent struct {
	ID, GroupID, Name string
	Status            gateway.ComponentStatus
}

// PendingAlerts lists firing routed alerts not yet in an incident.
func (t *Tx) PendingAlerts() ([]PendingAlert, error) { return t.s.pendingAlerts(t.ctx, t.tx) }

// PendingAlerts lists firing routed alerts not yet in an incident, read
// outside any write transaction: the reconcile pass reads them ahead of
// the write lock, during a storm tens of thousands of them, and checks
// under it which are still pending (StillPending).
func (s *Store) PendingAlerts(ctx context.Context) ([]PendingAlert, error) {
	return s.pendingAlerts(ctx, s.db)
}

func (s *Store) pendingAlerts(ctx context.Context, q sqlx.QueryerContext) ([]PendingAlert, error) {
	var rows []struct {
		ID          int64
		Labels      string
		Severity    gateway.Severity
		Flapping    bool
		ComponentID string
		GroupID     string
		Name        string
		Status      gateway.ComponentStatus
	}
	if err := sqlx.SelectContext(ctx, q, &rows, s.q.UncorrelatedAlerts); err != nil {
		return nil, wrap("pending alerts", err)
	}
	var out []PendingAlert
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].ID != r.ID {
			pa := PendingAlert{ID: r.ID, Severity: r.Severity, Flapping: r.Flapping}
			if err := json.Unmarshal([]byte(r.Labels), &pa.Labels); err != nil {
				return nil, wrap("alert labels", err)
			}
			out = append(out, pa)
		}
		last := &out[len(out)-1]
		last.Components = append(last.Components, RoutedComponent{ID: r.ComponentID, GroupID: r.GroupID, Name: r.Name, Status: r.Status})
	}
	return out, nil
}

// StillPending returns which of ids are pending still (firing, in no
// incident): the check, under the write lock, of alerts read before it.
// On PostgreSQL it also locks them, in ingest's order, so that writing
// them later in the transaction cannot deadlock with ingest.
func (t *Tx) StillPending(ids []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(ids))
	for chunk := range writeChunks(t.s, ids, 1) {
		var got []struct {
			ID         int64
			Status     gateway.AlertStatus
			IncidentID string
		}
		if err := t.s.bulkOn(t.ctx, t.tx, t.s.q.StillPending, len(chunk)).selectInto(t.ctx, &got, anySlice(chunk)...); err != nil {
			return nil, wrap("still pending", err)
		}
		for _, a := range got {
			out[a.ID] = a.Status == gateway.AlertFiring && a.IncidentID == ""
		}
	}
	return out, nil
}

// CorrelatingIncident is an incident that still takes alerts.
type CorrelatingIncident struct {
	ID             string
	CorrelationKey string
	LastAlertAt    optTime
	Status         gateway.IncidentStatus
	HumanAt        optTime
	Published      bool
	CreatedAt      time.Time
	Automated      bool
	// RootCauseID is the incident's root cause, "" when it has none.
	RootCauseID string
}

// CorrelatingIncidents lists incidents whose correlation key is set.
func (t *Tx) CorrelatingIncidents() ([]CorrelatingIncident, error) {
	var out []CorrelatingIncident
	err := t.tx.SelectContext(t.ctx, &out, t.s.q.CorrelatingIncidents)
	return out, wrap("correlating incidents", err)
}

// Dependencies returns the dependency graph inside the transaction:
// component id → the ids it depends on.
func (t *Tx) Dependencies() (map[string][]string, error) {
	return t.s.dependencies(t.ctx, t.tx)
}

// AttachAlerts puts alerts into an incident and records when they joined,
// a few hundred per statement: after a storm the reconcile pass attaches
// thousands at once, and one round trip per alert held the single SQLite
// writer (or a PostgreSQL core) for seconds, which ingest then waited on.
// An alert already in an incident stays where it is.
func (t *Tx) AttachAlerts(incidentID string, alertIDs []int64, at time.Time) error {
	for chunk := range writeChunks(t.s, alertIDs, 1) {
		ids := anySlice(chunk)
		if _, err := t.s.bulkOn(t.ctx, t.tx, t.s.q.AttachAlerts, len(chunk)).exec(t.ctx, append([]any{incidentID}, ids...)...); err != nil {
			return wrap("attach alerts", err)
		}
		args := append(append([]any{storedTime(at)}, ids...), incidentID)
		if _, err := t.s.bulkOn(t.ctx, t.tx, t.s.q.InsertIncidentAlerts, len(chunk)).exec(t.ctx, args...); err != nil {
			return wrap("record incident alerts", err)
		}
	}
	return nil
}

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

// IncidentActive reports whether any of an incident's alerts is active
// (firing, or flapping).
func (t *Tx) IncidentActive(incidentID string) (bool, error) {
	var n int
	err := t.tx.GetContext(t.ctx, &n, t.s.q.IncidentActive, incidentID, incidentID)
	return n > 0, wrap("incident active", err)
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

// OpenIncidentsByComponent maps each component to the open incidents that
// cover it.
func (t *Tx) OpenIncidentsByComponent() (map[string][]string, error) {
	var rows []struct{ ComponentID, IncidentID string }
	if err := t.tx.SelectContext(t.ctx, &rows, t.s.q.OpenIncidentComps); err != nil {
		return nil, wrap("open incident components", err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.ComponentID] = append(out[r.ComponentID], r.IncidentID)
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

// Audit appends an audit entry inside the transaction.
func (t *Tx) Audit(who gateway.Principal, action, targetType, targetID string, detail map[string]any) error {
	return t.s.audit(t.ctx, t.tx, who, action, targetType, targetID, detail)
}

// AddEvent writes an event in the transaction, so the change it announces
// and the announcement commit together; the dispatcher plans it.
func (t *Tx) AddEvent(e *gateway.Event) error {
	if err := t.s.insertEvent(t.ctx, t.tx, e); err != nil {
		return err
	}
	t.added = append(t.added, e)
	return nil
}

// ComponentGroups lists every group inside the transaction.
func (t *Tx) ComponentGroups() ([]gateway.ComponentGroup, error) {
	var out []gateway.ComponentGroup
	err := t.tx.SelectContext(t.ctx, &out, t.s.q.ListGroups)
	return out, wrap("list groups", err)
}
