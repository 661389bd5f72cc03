package store

import (
	"context"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// timelineQueries are the statements of queries/timeline.sql: read-only
// views for the support console.
type timelineQueries struct {
	IncidentAlerts string `query:"incident-alerts"`
	IncidentEvents string `query:"incident-events"`
	FanoutEvents   string `query:"fanout-events"`
}

// JoinedAlert is an alert of an incident and when it joined.
type JoinedAlert struct {
	*AlertRecord
	JoinedAt time.Time
}

type joinedAlertRow struct {
	alertRow
	JoinedAt time.Time
}

// IncidentAlerts lists the alerts that joined incident id (at most limit),
// in the order they joined, with their components.
func (s *Store) IncidentAlerts(ctx context.Context, id string, limit int) ([]JoinedAlert, error) {
	var rows []joinedAlertRow
	if err := s.db.SelectContext(ctx, &rows, s.q.IncidentAlerts, id, limit); err != nil {
		return nil, wrap("incident alerts", err)
	}
	out := make([]JoinedAlert, 0, len(rows))
	byID := make(map[int64]*AlertRecord, len(rows))
	for i := range rows {
		rec, err := rows[i].record()
		if err != nil {
			return nil, err
		}
		out = append(out, JoinedAlert{AlertRecord: rec, JoinedAt: rows[i].JoinedAt.UTC()})
		byID[rec.ID] = rec
	}
	return out, s.loadComponents(ctx, byID)
}

// IncidentEvents lists incident (or maintenance) id's events, at most
// limit, oldest first, without their component ids: the notices it sent.
func (s *Store) IncidentEvents(ctx context.Context, id string, limit int) ([]*gateway.Event, error) {
	return s.events(ctx, "incident events", s.q.IncidentEvents, id, limit)
}

// FanoutEvents lists the events to many subscribers created since that
// still have deliveries to make, and every such event created since
// recent: fan-outs in progress and just finished, newest first, without
// their component ids.
func (s *Store) FanoutEvents(ctx context.Context, since, recent time.Time, limit int) ([]*gateway.Event, error) {
	return s.events(ctx, "fan-out events", s.q.FanoutEvents, storedTime(since), storedTime(recent), limit)
}

// events runs a query of get-event's columns.
func (s *Store) events(ctx context.Context, op, query string, args ...any) ([]*gateway.Event, error) {
	var rows []eventRow
	if err := s.db.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, wrap(op, err)
	}
	out := make([]*gateway.Event, 0, len(rows))
	for _, r := range rows {
		e, err := r.event()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
