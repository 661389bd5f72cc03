package store

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldstatus/herald/gateway"
)

// PendingAlert is a firing, routed alert that belongs to no incident yet,
// with the components it was routed to.
type PendingAlert struct {
	ID       int64
	Labels   map[string]string
	Severity gateway.Severity
	Flapping bool
	// ReceivedAt is when the alert fired (Herald received it), which a
	// pass that runs late (a restart in a storm) correlates by.
	ReceivedAt time.Time
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
	var out []PendingAlert
	err := s.eachPendingAlert(ctx, q, func(a PendingAlert) error {
		out = append(out, a)
		return nil
	})
	return out, err
}

// EachPendingAlert calls fn with each firing routed alert not yet in an
// incident, in id order, as PendingAlerts lists them, read outside any
// write transaction; it stops at fn's first error and returns it. The
// rows stream from the database: a caller that keeps less than the whole
// alert (the reconcile pass keeps its correlation key, not its labels)
// holds that much per pending alert, not the storm's rows as read.
// Alerts with the same components share one Components slice, which fn
// must not change.
func (s *Store) EachPendingAlert(ctx context.Context, fn func(PendingAlert) error) error {
	return s.eachPendingAlert(ctx, s.db, fn)
}

func (s *Store) eachPendingAlert(ctx context.Context, q sqlx.QueryerContext, fn func(PendingAlert) error) error {
	rows, err := q.QueryxContext(ctx, s.q.UncorrelatedAlerts)
	if err != nil {
		return wrap("pending alerts", err)
	}
	defer rows.Close()
	var (
		r struct {
			ID          int64
			Labels      string
			Severity    gateway.Severity
			Flapping    bool
			ReceivedAt  time.Time
			ComponentID string
			GroupID     string
			Name        string
			Status      gateway.ComponentStatus
		}
		cur  PendingAlert
		have bool
		// A storm's alerts are routed to a handful of components, with a
		// handful of severities: one copy of each, not one per alert.
		shared     = map[string][]RoutedComponent{}
		severities = map[gateway.Severity]gateway.Severity{}
	)
	flush := func() error {
		if !have {
			return nil
		}
		have = false
		var k strings.Builder
		for _, c := range cur.Components {
			k.WriteString(c.ID + "\x1f" + c.GroupID + "\x1f" + c.Name + "\x1f" + string(c.Status) + "\x1e")
		}
		if same, ok := shared[k.String()]; ok {
			cur.Components = same
		} else {
			cur.Components = slices.Clip(cur.Components)
			shared[k.String()] = cur.Components
		}
		if sev, ok := severities[cur.Severity]; ok {
			cur.Severity = sev
		} else {
			severities[cur.Severity] = cur.Severity
		}
		return fn(cur)
	}
	for rows.Next() {
		if err := rows.StructScan(&r); err != nil {
			return wrap("pending alerts", err)
		}
		if !have || cur.ID != r.ID {
			if err := flush(); err != nil {
				return err
			}
			cur = PendingAlert{ID: r.ID, Severity: r.Severity, Flapping: r.Flapping, ReceivedAt: r.ReceivedAt.UTC()}
			if err := json.Unmarshal([]byte(r.Labels), &cur.Labels); err != nil {
				return wrap("alert labels", err)
			}
			have = true
		}
		cur.Components = append(cur.Components, RoutedComponent{ID: r.ComponentID, GroupID: r.GroupID, Name: r.Name, Status: r.Status})
	}
	if err := rows.Err(); err != nil {
		return wrap("pending alerts", err)
	}
	return flush()
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

// IncidentActive reports whether any of an incident's alerts is active
// (firing, or flapping).
func (t *Tx) IncidentActive(incidentID string) (bool, error) {
	var n int
	err := t.tx.GetContext(t.ctx, &n, t.s.q.IncidentActive, incidentID, incidentID)
	return n > 0, wrap("incident active", err)
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
