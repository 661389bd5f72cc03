package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

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
	SourceByTokenHash string `query:"source-by-token-hash"`
	DeleteSource      string `query:"delete-source"`
	NextRulePosition  string `query:"next-rule-position"`
	CountRule         string `query:"count-rule"`
	AlertSummaries    string `query:"source-alert-summaries"`
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
	return s.source(ctx, s.db, idOrName)
}

// Source is Store.Source inside the transaction.
func (t *Tx) Source(idOrName string) (*gateway.Source, error) {
	return t.s.source(t.ctx, t.tx, idOrName)
}

func (s *Store) source(ctx context.Context, q sqlx.QueryerContext, idOrName string) (*gateway.Source, error) {
	var r sourceRow
	if err := sqlx.GetContext(ctx, q, &r, s.q.GetSource, idOrName, idOrName); err != nil {
		if gateway.ErrorCode(mapError(err)) == gateway.ENOTFOUND {
			return nil, notFound("Source", idOrName)
		}
		return nil, wrap("get source", err)
	}
	src := r.source()
	return &src, nil
}

// SourceByName finds the source that /ingest/{name} names, with its token
// hash; ENOTFOUND when none. Answers are kept for a second (see
// sources_cache.go). A database that cannot be reached is
// EUNAVAILABLE.
func (s *Store) SourceByName(ctx context.Context, name string) (*gateway.Source, error) {
	now := time.Now()
	if src, ok := s.sources.get(name, now); ok {
		return src, nil
	}
	gen := s.sources.gen.Load()
	var r sourceRow
	var err error
	if st := s.prepared(ctx, false, s.q.SourceByName, true); st != nil { // once per request: worth preparing
		err = st.GetContext(ctx, &r, name)
	} else {
		err = s.db.GetContext(ctx, &r, s.q.SourceByName, name)
	}
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("Source", name)
		}
		return nil, ingestError("source by name", err)
	}
	src := r.source()
	s.sources.put(name, &src, gen, now)
	return &src, nil
}

// SourceByToken finds the source whose token is token (PagerDuty's
// routing_key): the lookup is an index probe on the hash and the final
// comparison is constant-time. EUNAUTHORIZED when no source has it.
func (s *Store) SourceByToken(ctx context.Context, token string) (*gateway.Source, error) {
	var r sourceRow
	err := s.db.GetContext(ctx, &r, s.q.SourceByTokenHash, gateway.HashSecret(token))
	if errors.Is(err, sql.ErrNoRows) || err == nil && !gateway.SecretMatches(token, r.TokenHash) {
		return nil, gateway.Errorf(gateway.EUNAUTHORIZED, "Invalid source token.")
	}
	if err != nil {
		return nil, ingestError("source by token", err)
	}
	src := r.source()
	return &src, nil
}

// CreateSource inserts src with a new token and returns the token, which
// is stored only as a hash and cannot be shown again. It fills src's id,
// times, token prefix and (when empty) origin; a taken name is ECONFLICT.
func (s *Store) CreateSource(ctx context.Context, src *gateway.Source) (token string, err error) {
	err = s.InTx(ctx, func(t *Tx) error { token, err = t.CreateSource(src); return err })
	return token, err
}

// CreateSource is Store.CreateSource inside the transaction.
func (t *Tx) CreateSource(src *gateway.Source) (string, error) {
	token := gateway.NewSecret("hsrc_")
	now := t.s.now()
	src.ID, src.CreatedAt, src.UpdatedAt = gateway.NewID(), now, now
	src.TokenHash, src.TokenPrefix = gateway.HashSecret(token), gateway.SecretPrefix(token)
	if src.Origin == "" {
		src.Origin = gateway.OriginAPI
	}
	_, err := t.tx.ExecContext(t.ctx, t.s.q.InsertSource, src.ID, src.Name, src.Kind, src.TokenHash, src.TokenPrefix,
		src.RateLimit, src.Origin, now, now)
	if err != nil {
		return "", conflictName(wrap("insert source", err), "source", src.Name)
	}
	return token, nil
}

// RotateSourceToken gives the source a new token and returns it. The old
// token stops working with the commit: every ingest request reads the
// source's hash afresh.
func (s *Store) RotateSourceToken(ctx context.Context, id string) (token string, err error) {
	err = s.InTx(ctx, func(t *Tx) error { token, err = t.RotateSourceToken(id); return err })
	return token, err
}

// RotateSourceToken is Store.RotateSourceToken inside the transaction.
func (t *Tx) RotateSourceToken(id string) (string, error) {
	token := gateway.NewSecret("hsrc_")
	now := t.s.now()
	t.sourcesChanged()
	res, err := t.tx.ExecContext(t.ctx, t.s.q.UpdateSourceToken, gateway.HashSecret(token), gateway.SecretPrefix(token), now, now, id)
	if err != nil {
		return "", wrap("rotate source token", err)
	}
	return token, mustAffect(res, "Source", id)
}

// UpdateSource writes src's kind and rate limit.
func (s *Store) UpdateSource(ctx context.Context, src *gateway.Source) error {
	return s.InTx(ctx, func(t *Tx) error { return t.UpdateSource(src) })
}

// UpdateSource is Store.UpdateSource inside the transaction.
func (t *Tx) UpdateSource(src *gateway.Source) error {
	src.UpdatedAt = t.s.now()
	t.sourcesChanged()
	res, err := t.tx.ExecContext(t.ctx, t.s.q.UpdateSource, src.Kind, src.RateLimit, src.UpdatedAt, src.ID)
	if err != nil {
		return wrap("update source", err)
	}
	return mustAffect(res, "Source", src.ID)
}

// DeleteSource removes a source and, with it, every alert it sent.
func (s *Store) DeleteSource(ctx context.Context, id string) error {
	return s.InTx(ctx, func(t *Tx) error { return t.DeleteSource(id) })
}

// DeleteSource is Store.DeleteSource inside the transaction.
func (t *Tx) DeleteSource(id string) error {
	t.sourcesChanged()
	res, err := t.tx.ExecContext(t.ctx, t.s.q.DeleteSource, id)
	if err != nil {
		return wrap("delete source", err)
	}
	return mustAffect(res, "Source", id)
}

// SourceAlerts is what a source has sent: its alert count, how many of
// them fire now, and its most recent alert (zero LastSeenAt when none).
type SourceAlerts struct {
	SourceID    string              `db:"source_id"`
	Alerts      int                 `db:"alerts"`
	Firing      int                 `db:"firing"`
	LastSeenAt  time.Time           `db:"-"`
	LastStatus  gateway.AlertStatus `db:"last_status"`
	LastSummary string              `db:"last_summary"`
}

// SourceAlertSummaries returns every source's SourceAlerts by source id,
// in one query.
func (s *Store) SourceAlertSummaries(ctx context.Context) (map[string]SourceAlerts, error) {
	var rows []struct {
		SourceAlerts
		Last optTime `db:"last_seen_at"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.q.AlertSummaries); err != nil {
		return nil, wrap("source alert summaries", err)
	}
	out := make(map[string]SourceAlerts, len(rows))
	for _, r := range rows {
		a := r.SourceAlerts
		a.LastSeenAt = r.Last.Time
		out[a.SourceID] = a
	}
	return out, nil
}
