package store

import (
	"context"

	"github.com/heraldstatus/herald/gateway"
)

// broadcastQueries are the statements of queries/broadcasts.sql.
type broadcastQueries struct {
	EventsOfType string `query:"events-of-type"`
}

// EventsOfType returns the newest limit events of type t (100 when limit
// is not positive), newest first, without their component ids: the past
// broadcasts the console lists, for instance.
func (s *Store) EventsOfType(ctx context.Context, t gateway.EventType, limit int) ([]*gateway.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.events(ctx, "events of type", s.q.EventsOfType, t, limit)
}
