package store

import (
	"context"
	"database/sql"

	"github.com/heraldstatus/herald/gateway"
)

// sourceRow scans a source; its optional times are NULL in the database.
type sourceRow struct {
	gateway.Source
	LastAlertAt    sql.NullTime
	TokenRotatedAt sql.NullTime
}

func (r sourceRow) source() gateway.Source {
	src := r.Source
	src.LastAlertAt, src.TokenRotatedAt = r.LastAlertAt.Time, r.TokenRotatedAt.Time
	return src
}

// Sources lists every ingest source (without token hashes).
func (s *Store) Sources(ctx context.Context) ([]gateway.Source, error) {
	var rows []sourceRow
	if err := s.db.SelectContext(ctx, &rows, s.q.ListSources); err != nil {
		return nil, wrap("list sources", err)
	}
	out := make([]gateway.Source, len(rows))
	for i, r := range rows {
		out[i] = r.source()
	}
	return out, nil
}

// Source finds a source by id or name, with its token hash; ENOTFOUND when none.
func (s *Store) Source(ctx context.Context, idOrName string) (*gateway.Source, error) {
	var r sourceRow
	if err := s.db.GetContext(ctx, &r, s.q.GetSource, idOrName, idOrName); err != nil {
		if gateway.ErrorCode(mapError(err)) == gateway.ENOTFOUND {
			return nil, notFound("Source", idOrName)
		}
		return nil, wrap("get source", err)
	}
	src := r.source()
	return &src, nil
}
