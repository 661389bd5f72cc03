package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/heraldstatus/herald/gateway"
)

// Audit appends an entry to the audit log.
func (s *Store) Audit(ctx context.Context, who gateway.Principal, action, targetType, targetID string, detail map[string]any) error {
	return s.audit(ctx, s.wdb, who, action, targetType, targetID, detail)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) audit(ctx context.Context, db execer, who gateway.Principal, action, targetType, targetID string, detail map[string]any) error {
	d, err := json.Marshal(detail)
	if err != nil {
		return wrap("audit detail", err)
	}
	if detail == nil {
		d = []byte("{}")
	}
	_, err = db.ExecContext(ctx, s.q.InsertAuditLog, s.now(), who.Name, who.Kind, action, targetType, targetID, string(d))
	return wrap("insert audit log", err)
}

// AuditQuery selects audit entries: those older than the entry id Before
// (0 for the newest), by Actor (a person's or key's name, any case) and by
// Action (exact, or every action under a prefix that ends in ".", such as
// "subscriber.").
type AuditQuery struct {
	Before        int64
	Actor, Action string
}

// AuditLog lists the entries q selects, newest first, at most limit. The
// filters are in the query, so a filtered page costs what an unfiltered
// one does.
func (s *Store) AuditLog(ctx context.Context, q AuditQuery, limit int) ([]gateway.AuditEntry, error) {
	var rows []struct {
		gateway.AuditEntry
		Detail string
	}
	a := q.Action
	if err := s.db.SelectContext(ctx, &rows, s.q.ListAuditLog, q.Before, q.Before, q.Actor, q.Actor,
		a, a, a, a, a, a, limit); err != nil {
		return nil, wrap("list audit log", err)
	}
	out := make([]gateway.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = r.AuditEntry
		_ = json.Unmarshal([]byte(r.Detail), &out[i].Detail)
	}
	return out, nil
}

// Audit appends an audit entry inside the transaction.
func (t *Tx) Audit(who gateway.Principal, action, targetType, targetID string, detail map[string]any) error {
	return t.s.audit(t.ctx, t.tx, who, action, targetType, targetID, detail)
}
