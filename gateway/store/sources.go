package store

import (
	"context"
	"database/sql"

	"github.com/heraldstatus/herald/gateway"
)

// sourceQueries are the statements of queries/sources.sql: ingest sources
// and routing rules.
type sourceQueries struct {
	ListSources       string `query:"list-sources"`
	GetSource         string `query:"get-source"`
	SourceByName      string `query:"source-by-name"`
	InsertSource      string `query:"insert-source"`
	UpdateSourceToken string `query:"update-source-token"`
	UpdateSource      string `query:"update-source"`
	SyncUpdateSource  string `query:"sync-update-source"`
	ListRules         string `query:"list-rules"`
	InsertRule        string `query:"insert-rule"`
	UpdateRule        string `query:"update-rule"`
	DeleteRule        string `query:"delete-rule"`
	ListRuleComps     string `query:"list-rule-components"`
	InsertRuleComp    string `query:"insert-rule-component"`
	DeleteRuleComps   string `query:"delete-rule-components"`
}

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
