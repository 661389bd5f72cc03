package store

import (
	"context"

	"github.com/heraldstatus/herald/gateway"
)

// pageStateQueries are what an event captures of the page when it is
// written (gateway.PageState).
type pageStateQueries struct {
	OpenPageIncidents string `query:"open-page-incidents"`
}

// PageState reads what the status page shows now: components in page
// order, groups, and the published incidents still open.
func (s *Store) PageState(ctx context.Context) (*gateway.PageState, error) {
	return s.pageState(ctx, s.db)
}

// PageState is Store.PageState inside the transaction: it sees the
// transaction's own changes, so an event written after them captures the
// page as the change left it.
func (t *Tx) PageState() (*gateway.PageState, error) { return t.s.pageState(t.ctx, t.tx) }

func (s *Store) pageState(ctx context.Context, q queryer) (*gateway.PageState, error) {
	var ps gateway.PageState
	if err := q.SelectContext(ctx, &ps.Components, s.q.ListComponents); err != nil {
		return nil, wrap("page state: components", err)
	}
	if err := q.SelectContext(ctx, &ps.Groups, s.q.ListGroups); err != nil {
		return nil, wrap("page state: groups", err)
	}
	var open []struct {
		ID     string
		Kind   string
		Status gateway.IncidentStatus
		Impact gateway.Impact
	}
	if err := q.SelectContext(ctx, &open, s.q.OpenPageIncidents); err != nil {
		return nil, wrap("page state: open incidents", err)
	}
	for _, o := range open {
		ps.Open = append(ps.Open, gateway.Incident{ID: o.ID, Kind: o.Kind, Status: o.Status, Impact: o.Impact})
	}
	return &ps, nil
}
