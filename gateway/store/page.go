package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// pageQueries are the statements of queries/page.sql: what the public
// status page, its feeds and the Statuspage-compatible API read.
type pageQueries struct {
	PageVersion      string `query:"page-version"`
	PageIncidents    string `query:"page-incidents"`
	PageUpdates      string `query:"page-incident-updates"`
	PageIncidentComp string `query:"page-incident-components"`
	FeedUpdates      string `query:"feed-updates"`
}

// PageVersion tells whether anything a public page shows has changed: two
// reads with equal Stamps show the same components, groups and incidents.
// Pages derive their ETag from it and answer 304 without reading more.
type PageVersion struct {
	// Stamp is an opaque string that changes with every change of the
	// public data (counts catch deletions, newest times catch the rest).
	Stamp string
	// UpdatedAt is the newest change of the public data (zero on an
	// empty page): the pages' Last-Modified.
	UpdatedAt time.Time
	// FirstIncidentAt is when the oldest published incident began (zero
	// when there is none), where the history's pages end.
	FirstIncidentAt time.Time
}

// PageVersion reads the page's version in one query.
func (s *Store) PageVersion(ctx context.Context) (PageVersion, error) {
	var r struct {
		ComponentCount, GroupCount, IncidentComponentCount, PublishedCount int64
		ComponentsAt, GroupsAt, IncidentsAt, UpdatesAt, FirstIncidentAt    optTime
	}
	if err := s.db.GetContext(ctx, &r, s.q.PageVersion); err != nil {
		return PageVersion{}, wrap("page version", err)
	}
	v := PageVersion{FirstIncidentAt: r.FirstIncidentAt.Time}
	for _, t := range []time.Time{r.ComponentsAt.Time, r.GroupsAt.Time, r.IncidentsAt.Time, r.UpdatesAt.Time} {
		if t.After(v.UpdatedAt) {
			v.UpdatedAt = t
		}
	}
	v.Stamp = fmt.Sprintf("%d.%d.%d.%d.%d.%d.%d.%d", r.ComponentCount, r.GroupCount, r.IncidentComponentCount, r.PublishedCount,
		r.ComponentsAt.UnixMicro(), r.GroupsAt.UnixMicro(), r.IncidentsAt.UnixMicro(), r.UpdatesAt.UnixMicro())
	return v, nil
}

// PageSelection selects published incidents (and maintenances) for a
// public page. The zero value selects the 50 newest of both kinds.
type PageSelection struct {
	Kind string // gateway.KindIncident, gateway.KindMaintenance, or "" for both
	// OpenOnly leaves out closed ones (resolved, postmortem, completed);
	// otherwise closed ones are in when they closed at or after
	// ClosedSince (zero: all).
	OpenOnly    bool
	ClosedSince time.Time
	// From and To bound when it began, From ≤ began < To (zero: open):
	// a maintenance begins at its scheduled start, anything else when it
	// was created.
	From, To time.Time
	Limit    int // default 50
}

func (p PageSelection) args() []any {
	closed, from, to := p.ClosedSince, p.From, p.To
	if p.OpenOnly {
		closed = farFuture
	}
	if to.IsZero() {
		to = farFuture
	}
	if p.Limit <= 0 {
		p.Limit = 50
	}
	return []any{p.Kind, p.Kind, storedTime(closed), storedTime(from), storedTime(to), p.Limit}
}

var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// StatusChange is one change of a component's status, from the history
// the uptime bars are computed from.
type StatusChange struct {
	ComponentID string
	OldStatus   gateway.ComponentStatus
	NewStatus   gateway.ComponentStatus
	Reason      string
	IncidentID  string
	ChangedAt   time.Time
}

// PageSnapshot is what one public page shows, read together.
type PageSnapshot struct {
	Groups     []gateway.ComponentGroup
	Components []gateway.Component
	// Incidents are the selected ones, newest first, each with its
	// components and its updates (newest first).
	Incidents []gateway.Incident
	// Changes is the status history since the snapshot's HistorySince,
	// by component and time (empty when not asked for).
	Changes []StatusChange
	// Queries counts the statements the snapshot took: a page costs a
	// fixed number of them, however many incidents it shows.
	Queries int
}

// PageSnapshot reads the groups, the components, the selected incidents
// with their components and updates and, when historySince is not zero,
// the status changes since then: at most six queries.
func (s *Store) PageSnapshot(ctx context.Context, sel PageSelection, historySince time.Time) (*PageSnapshot, error) {
	snap := &PageSnapshot{}
	var err error
	if snap.Groups, err = s.ComponentGroups(ctx); err != nil {
		return nil, err
	}
	if snap.Components, err = s.Components(ctx); err != nil {
		return nil, err
	}
	snap.Queries = 2
	if snap.Incidents, err = s.publicIncidents(ctx, sel); err != nil {
		return nil, err
	}
	snap.Queries += 3
	if !historySince.IsZero() {
		if snap.Changes, err = s.statusChanges(ctx, historySince); err != nil {
			return nil, err
		}
		snap.Queries++
	}
	return snap, nil
}

// publicIncidents runs the three selection queries and joins their rows.
func (s *Store) publicIncidents(ctx context.Context, sel PageSelection) ([]gateway.Incident, error) {
	args := sel.args()
	var rows []incidentRow
	if err := s.db.SelectContext(ctx, &rows, s.q.PageIncidents, args...); err != nil {
		return nil, wrap("page incidents", err)
	}
	var updates []struct {
		gateway.IncidentUpdate
		AffectedComponents string
		NextUpdateAt       optTime
	}
	if err := s.db.SelectContext(ctx, &updates, s.q.PageUpdates, args...); err != nil {
		return nil, wrap("page incident updates", err)
	}
	var comps []struct {
		IncidentID, ComponentID string
		Status                  gateway.ComponentStatus
	}
	if err := s.db.SelectContext(ctx, &comps, s.q.PageIncidentComp, args...); err != nil {
		return nil, wrap("page incident components", err)
	}
	out := make([]gateway.Incident, len(rows))
	index := make(map[string]*gateway.Incident, len(rows))
	for i, r := range rows {
		out[i] = *r.incident()
		out[i].Components = map[string]gateway.ComponentStatus{}
		index[out[i].ID] = &out[i]
	}
	for _, c := range comps {
		if inc := index[c.IncidentID]; inc != nil {
			inc.Components[c.ComponentID] = c.Status
		}
	}
	for _, r := range updates { // newest first, so each incident's stay so
		inc := index[r.IncidentID]
		if inc == nil {
			continue // created between the two reads, past the limit
		}
		u := r.IncidentUpdate
		u.NextUpdateAt = r.NextUpdateAt.Time
		if err := json.Unmarshal([]byte(r.AffectedComponents), &u.AffectedComponents); err != nil {
			return nil, wrap("incident update components", err)
		}
		inc.Updates = append(inc.Updates, u)
	}
	return out, nil
}

// statusChanges lists the status changes since t, by component and time.
func (s *Store) statusChanges(ctx context.Context, since time.Time) ([]StatusChange, error) {
	var rows []struct {
		StatusChange
		ChangedAt optTime
	}
	if err := s.db.SelectContext(ctx, &rows, s.q.StatusChanges, storedTime(since)); err != nil {
		return nil, wrap("status changes", err)
	}
	out := make([]StatusChange, len(rows))
	for i, r := range rows {
		out[i] = r.StatusChange
		out[i].ChangedAt = r.ChangedAt.Time
	}
	return out, nil
}

// FeedUpdate is an update of a published incident, as the feeds list it.
type FeedUpdate struct {
	gateway.IncidentUpdate
	IncidentName string
	IncidentKind string
}

// FeedUpdates lists the newest limit updates of published incidents and
// maintenances, newest first, in one query. A published postmortem is
// one of them: status gateway.Postmortem, the incident's id as its id,
// shown (DisplayAt) when it was last published, created (CreatedAt) with
// the incident, so that publishing it again moves the same entry.
func (s *Store) FeedUpdates(ctx context.Context, limit int) ([]FeedUpdate, error) {
	var rows []struct {
		FeedUpdate
		DisplayAt, CreatedAt optTime
	}
	if err := s.db.SelectContext(ctx, &rows, s.q.FeedUpdates, limit); err != nil {
		return nil, wrap("feed updates", err)
	}
	out := make([]FeedUpdate, len(rows))
	for i, r := range rows {
		out[i] = r.FeedUpdate
		out[i].DisplayAt, out[i].CreatedAt = r.DisplayAt.Time, r.CreatedAt.Time
	}
	return out, nil
}
