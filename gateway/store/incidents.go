package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// incidentQueries are the statements of queries/incidents.sql.
type incidentQueries struct {
	InsertIncident       string `query:"insert-incident"`
	GetIncident          string `query:"get-incident"`
	ListIncidents        string `query:"list-incidents"`
	CorrelatingIncidents string `query:"correlating-incidents"`
	UpdateIncident       string `query:"update-incident"`
	IncidentComponents   string `query:"incident-components"`
	UpsertIncidentComp   string `query:"upsert-incident-component"`
	InsertUpdate         string `query:"insert-incident-update"`
	UpdateByIdemKey      string `query:"update-by-idempotency-key"`
	LockIncident         string `query:"lock-incident"`
	IncidentByIdemKey    string `query:"incident-by-idempotency-key"`
	SetIncidentIdemKey   string `query:"set-incident-idempotency-key"`
	IncidentUpdates      string `query:"incident-updates"`
	AttachAlerts         string `query:"attach-alerts"`
	InsertIncidentAlerts string `query:"insert-incident-alerts"`
	UncorrelatedAlerts   string `query:"uncorrelated-alerts"`
	StillPending         string `query:"still-pending"`
	ActiveCompStatuses   string `query:"active-component-statuses"`
	CompActiveStatuses   string `query:"component-active-statuses"`
	IncidentActive       string `query:"incident-active"`
	CompsInMaintenance   string `query:"components-under-maintenance"`
	OpenIncidentComps    string `query:"open-incident-components"`
	SetComponentStatus   string `query:"set-component-status"`
	SetManualStatus      string `query:"set-component-manual-status"`
	InsertStatusChange   string `query:"insert-status-change"`
	StatusChanges        string `query:"component-status-changes"`
	SetFlapping          string `query:"set-flapping"`
	FlappingAlerts       string `query:"flapping-alerts"`
	UpdateUpdate         string `query:"update-incident-update"`
	LockReconcile        string `query:"lock-reconcile"`
	UpdateAnnounced      string `query:"update-announced"`
	MarkFlapping         string `query:"mark-flapping"`
	LastIncidentEvent    string `query:"last-incident-event"`
	LatestUpdateTime     string `query:"latest-update-time"`
	MoveIncidentAlerts   string `query:"move-incident-alerts"`
	MoveIncidentJoins    string `query:"move-incident-joins"`
	DeleteIncident       string `query:"delete-incident"`
	DeleteIncidentTimers string `query:"delete-incident-timers"`
}

// incidentRow scans an incident; its optional times are NULL when unset.
type incidentRow struct {
	gateway.Incident
	HumanAt               optTime
	LastAlertAt           optTime
	NextUpdateAt          optTime
	ScheduledFor          optTime
	ScheduledUntil        optTime
	PostmortemPublishedAt optTime
	MonitoringAt          optTime
	ResolvedAt            optTime
	// The root cause, "" when the incident has none (or its component
	// was removed).
	RootCauseID       string
	RootCauseName     string
	RootCauseInferred bool
}

func (r incidentRow) incident() *gateway.Incident {
	i := r.Incident
	i.RootCause = nil
	if r.RootCauseID != "" {
		i.RootCause = &gateway.RootCause{Component: gateway.RootCauseComponent{ID: r.RootCauseID, Name: r.RootCauseName}, Inferred: r.RootCauseInferred}
	}
	i.HumanAt, i.LastAlertAt, i.NextUpdateAt = r.HumanAt.Time, r.LastAlertAt.Time, r.NextUpdateAt.Time
	i.ScheduledFor, i.ScheduledUntil = r.ScheduledFor.Time, r.ScheduledUntil.Time
	i.PostmortemPublishedAt, i.MonitoringAt, i.ResolvedAt = r.PostmortemPublishedAt.Time, r.MonitoringAt.Time, r.ResolvedAt.Time
	return &i
}

// CreateIncident inserts inc with its components, filling id and times.
func (t *Tx) CreateIncident(inc *gateway.Incident) error {
	now := t.s.now()
	if inc.ID == "" {
		inc.ID = gateway.NewID()
	}
	inc.CreatedAt, inc.UpdatedAt = now, now
	if inc.Kind == "" {
		inc.Kind = gateway.KindIncident
	}
	_, err := t.exec("insert incident", t.s.q.InsertIncident, inc.ID, inc.Kind, inc.Name, inc.Status, inc.Impact,
		inc.Automated, nullable(inc.HumanAt), inc.Published, inc.CorrelationKey, nullable(inc.LastAlertAt),
		nullable(inc.NextUpdateAt), nullable(inc.ScheduledFor), nullable(inc.ScheduledUntil), inc.AutoTransition,
		inc.CreatedBy, now, now, rootCauseID(inc), rootCauseInferred(inc))
	if err != nil {
		return err
	}
	for id, st := range inc.Components {
		if err := t.SetIncidentComponent(inc.ID, id, st); err != nil {
			return err
		}
	}
	return nil
}

// SaveIncident writes every mutable field of inc.
func (t *Tx) SaveIncident(inc *gateway.Incident) error {
	inc.UpdatedAt = t.s.now()
	n, err := t.exec("update incident", t.s.q.UpdateIncident, inc.Name, inc.Status, inc.Impact, nullable(inc.HumanAt),
		inc.Published, inc.CorrelationKey, nullable(inc.LastAlertAt), nullable(inc.NextUpdateAt),
		nullable(inc.ScheduledFor), nullable(inc.ScheduledUntil), inc.AutoTransition, inc.PostmortemBody,
		nullable(inc.PostmortemPublishedAt), inc.UpdatedAt, nullable(inc.MonitoringAt), nullable(inc.ResolvedAt),
		rootCauseID(inc), rootCauseInferred(inc), inc.ID)
	if err == nil && n == 0 {
		return notFound("Incident", inc.ID)
	}
	return err
}

func rootCauseID(inc *gateway.Incident) string {
	if inc.RootCause == nil {
		return ""
	}
	return inc.RootCause.Component.ID
}

func rootCauseInferred(inc *gateway.Incident) bool {
	return inc.RootCause != nil && inc.RootCause.Inferred
}

// FoldIncident moves incident from's alerts (and the record of their
// joining) into incident into, then deletes from with its components,
// updates and timers. The reconcile pass folds an automatic incident
// nobody was told about yet (inside group_wait) into its root cause's, so
// that one fault makes one incident; the caller merges the components.
func (t *Tx) FoldIncident(from, into string) error {
	if _, err := t.exec("move incident alerts", t.s.q.MoveIncidentAlerts, into, from); err != nil {
		return err
	}
	if _, err := t.exec("move incident joins", t.s.q.MoveIncidentJoins, into, from); err != nil {
		return err
	}
	if _, err := t.exec("delete incident timers", t.s.q.DeleteIncidentTimers, from); err != nil {
		return err
	}
	_, err := t.exec("delete incident", t.s.q.DeleteIncident, from)
	return err
}

// SetIncidentComponent records the status the incident gives a component.
func (t *Tx) SetIncidentComponent(incidentID, componentID string, st gateway.ComponentStatus) error {
	_, err := t.exec("set incident component", t.s.q.UpsertIncidentComp, incidentID, componentID, st)
	return err
}

// Incident loads an incident with its components (not its updates).
func (t *Tx) Incident(id string) (*gateway.Incident, error) {
	return t.s.incident(t.ctx, t.tx, id)
}

// Incident loads an incident with its components and updates, newest first.
func (s *Store) Incident(ctx context.Context, id string) (*gateway.Incident, error) {
	inc, err := s.incident(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	inc.Updates, err = s.incidentUpdates(ctx, s.db, id)
	return inc, err
}

func (s *Store) incident(ctx context.Context, q queryer, id string) (*gateway.Incident, error) {
	var rows []incidentRow
	if err := q.SelectContext(ctx, &rows, s.q.GetIncident, id); err != nil {
		return nil, wrap("get incident", err)
	}
	if len(rows) == 0 {
		return nil, notFound("Incident", id)
	}
	inc := rows[0].incident()
	var comps []struct {
		IncidentID, ComponentID string
		Status                  gateway.ComponentStatus
	}
	if err := q.SelectContext(ctx, &comps, s.q.IncidentComponents, id); err != nil {
		return nil, wrap("incident components", err)
	}
	inc.Components = map[string]gateway.ComponentStatus{}
	for _, c := range comps {
		inc.Components[c.ComponentID] = c.Status
	}
	return inc, nil
}

func (s *Store) incidentUpdates(ctx context.Context, q queryer, id string) ([]gateway.IncidentUpdate, error) {
	var rows []struct {
		gateway.IncidentUpdate
		AffectedComponents string
		NextUpdateAt       optTime
	}
	if err := q.SelectContext(ctx, &rows, s.q.IncidentUpdates, id); err != nil {
		return nil, wrap("incident updates", err)
	}
	out := make([]gateway.IncidentUpdate, len(rows))
	for i, r := range rows {
		out[i] = r.IncidentUpdate
		out[i].NextUpdateAt = r.NextUpdateAt.Time
		if err := json.Unmarshal([]byte(r.AffectedComponents), &out[i].AffectedComponents); err != nil {
			return nil, wrap("incident update components", err)
		}
	}
	return out, nil
}

// IncidentFilter selects incidents for lists.
type IncidentFilter struct {
	Kind   string // incident (default) or maintenance
	Status string // "", "open" or "resolved"
	Before time.Time
	Limit  int
}

// Incidents lists incidents newest first (without updates).
func (s *Store) Incidents(ctx context.Context, f IncidentFilter) ([]gateway.Incident, error) {
	if f.Kind == "" {
		f.Kind = gateway.KindIncident
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	before := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if !f.Before.IsZero() {
		before = storedTime(f.Before)
	}
	var rows []incidentRow
	err := s.db.SelectContext(ctx, &rows, s.q.ListIncidents, f.Kind, f.Status, f.Status, f.Status, before, f.Limit)
	if err != nil {
		return nil, wrap("list incidents", err)
	}
	out := make([]gateway.Incident, len(rows))
	for i, r := range rows {
		out[i] = *r.incident()
	}
	return out, nil
}

// AddUpdate appends an update to an incident's timeline, filling id and times.
func (t *Tx) AddUpdate(u *gateway.IncidentUpdate) error {
	now := t.s.now()
	// An incident's updates get strictly increasing times, so "the newest
	// update" is never a tie, even for two posted in the same microsecond.
	var latest optTime
	if err := t.tx.GetContext(t.ctx, &latest, t.s.q.LatestUpdateTime, time.Time{}, u.IncidentID); err != nil {
		return wrap("latest update", err)
	}
	if !latest.Before(now) {
		now = latest.Add(time.Microsecond)
	}
	u.ID, u.CreatedAt = gateway.NewID(), now
	if u.DisplayAt.IsZero() {
		u.DisplayAt = now
	}
	if u.AffectedComponents == nil {
		u.AffectedComponents = []gateway.AffectedComponent{}
	}
	ac, err := json.Marshal(u.AffectedComponents)
	if err != nil {
		return wrap("affected components", err)
	}
	var key *string
	if u.IdempotencyKey != "" {
		key = &u.IdempotencyKey
	}
	_, err = t.exec("insert incident update", t.s.q.InsertUpdate, u.ID, u.IncidentID, u.Status, u.Body, string(ac),
		u.Notify, u.Automated, u.Author, nullable(u.NextUpdateAt), storedTime(u.DisplayAt), now, now, key)
	return err
}

// UpdateByIdempotencyKey returns the update that key already posted on
// incident id (its id, status and body), or nil when it posted none.
func (t *Tx) UpdateByIdempotencyKey(incidentID, key string) (*gateway.IncidentUpdate, error) {
	var rows []struct {
		ID     string
		Status gateway.IncidentStatus
		Body   string
	}
	err := t.tx.SelectContext(t.ctx, &rows, t.s.q.UpdateByIdemKey, incidentID, key)
	if err != nil || len(rows) == 0 {
		return nil, wrap("update by idempotency key", err)
	}
	r := rows[0]
	return &gateway.IncidentUpdate{ID: r.ID, IncidentID: incidentID, Status: r.Status, Body: r.Body, IdempotencyKey: key}, nil
}

// IncidentByIdempotencyKey returns the id of the incident that key
// declared, or "" when it declared none.
func (t *Tx) IncidentByIdempotencyKey(key string) (string, error) {
	var ids []string
	if err := t.tx.SelectContext(t.ctx, &ids, t.s.q.IncidentByIdemKey, key); err != nil || len(ids) == 0 {
		return "", wrap("incident by idempotency key", err)
	}
	return ids[0], nil
}

// SetIncidentIdempotencyKey records the key that declared incident id; a
// key that declared another one already is ECONFLICT.
func (t *Tx) SetIncidentIdempotencyKey(id, key string) error {
	_, err := t.exec("set incident idempotency key", t.s.q.SetIncidentIdemKey, key, id)
	return err
}

// LockIncident holds incident id until the transaction ends (see
// lock-incident); a missing incident is ENOTFOUND.
func (t *Tx) LockIncident(id string) error {
	var ids []string
	if err := t.tx.SelectContext(t.ctx, &ids, t.s.q.LockIncident, id); err != nil {
		return wrap("lock incident", err)
	}
	if len(ids) == 0 {
		return notFound("Incident", id)
	}
	return nil
}

// RewriteUpdate replaces an update's words and affected components: used
// while an automatic incident's first notification is still held back
// (group_wait), so the storm arrives in one message.
func (t *Tx) RewriteUpdate(u *gateway.IncidentUpdate) error {
	ac, err := json.Marshal(u.AffectedComponents)
	if err != nil {
		return wrap("affected components", err)
	}
	_, err = t.exec("rewrite incident update", t.s.q.UpdateUpdate, u.Body, string(ac), t.s.now(), u.ID)
	return err
}

// Updates lists an incident's updates, newest first, inside the transaction.
func (t *Tx) Updates(incidentID string) ([]gateway.IncidentUpdate, error) {
	return t.s.incidentUpdates(t.ctx, t.tx, incidentID)
}

// LockReconcile makes concurrent reconcile passes (two replicas, or a pass
// started by a support action) wait for each other until commit.
func (t *Tx) LockReconcile() error {
	_, err := t.tx.ExecContext(t.ctx, t.s.q.LockReconcile)
	return wrap("lock reconcile", err)
}

// Announced reports whether an event was written for the update already.
func (t *Tx) Announced(updateID string) (bool, error) {
	var n int
	err := t.tx.GetContext(t.ctx, &n, t.s.q.UpdateAnnounced, updateID)
	return n > 0, wrap("update announced", err)
}

// MarkFlapping flags the alerts that changed state more than changes times
// in a window that started at or after since.
func (t *Tx) MarkFlapping(changes int, since time.Time) (int64, error) {
	return t.exec("mark flapping", t.s.q.MarkFlapping, changes, storedTime(since))
}
