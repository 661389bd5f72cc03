package store

import (
	"context"
	"encoding/json"

	"github.com/jmoiron/sqlx"

	"github.com/heraldstatus/herald/gateway"
)

// Rules lists the routing rules in the order they are tried.
func (s *Store) Rules(ctx context.Context) ([]gateway.Rule, error) {
	return s.listRules(ctx, s.db)
}

type queryer interface {
	sqlx.QueryerContext
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

func (s *Store) listRules(ctx context.Context, q queryer) ([]gateway.Rule, error) {
	var rows []struct {
		gateway.Rule
		Matchers       string
		SeverityStatus string
	}
	if err := q.SelectContext(ctx, &rows, s.q.ListRules); err != nil {
		return nil, wrap("list rules", err)
	}
	var links []struct{ RuleID, ComponentID string }
	if err := q.SelectContext(ctx, &links, s.q.ListRuleComps); err != nil {
		return nil, wrap("list rule components", err)
	}
	comps := map[string][]string{}
	for _, l := range links {
		comps[l.RuleID] = append(comps[l.RuleID], l.ComponentID)
	}
	out := make([]gateway.Rule, len(rows))
	for i, r := range rows {
		out[i] = r.Rule
		if err := json.Unmarshal([]byte(r.Matchers), &out[i].Matchers); err != nil {
			return nil, wrap("rule "+r.ID+" matchers", err)
		}
		if err := json.Unmarshal([]byte(r.SeverityStatus), &out[i].SeverityStatus); err != nil {
			return nil, wrap("rule "+r.ID+" severity_status", err)
		}
		out[i].ComponentIDs = comps[r.ID]
	}
	return out, nil
}

// writeRule inserts (insert=true, filling ID) or updates r with its components.
func (s *Store) writeRule(ctx context.Context, tx *sqlx.Tx, r *gateway.Rule, insert bool) error {
	m, err := json.Marshal(r.Matchers)
	if err != nil {
		return wrap("rule matchers", err)
	}
	if r.Matchers == nil {
		m = []byte("[]")
	}
	ss, err := json.Marshal(r.SeverityStatus)
	if err != nil {
		return wrap("rule severity_status", err)
	}
	if r.SeverityStatus == nil {
		ss = []byte("{}")
	}
	now := s.now()
	if insert {
		r.ID, r.CreatedAt = gateway.NewID(), now
		_, err = tx.ExecContext(ctx, s.q.InsertRule, r.ID, r.Name, r.Position, string(m), string(ss), r.Origin, now, now)
	} else {
		_, err = tx.ExecContext(ctx, s.q.UpdateRule, r.Name, r.Position, string(m), string(ss), now, r.ID)
	}
	if err != nil {
		return wrap("write rule", err)
	}
	if _, err := tx.ExecContext(ctx, s.q.DeleteRuleComps, r.ID); err != nil {
		return wrap("clear rule components", err)
	}
	for _, c := range r.ComponentIDs {
		if _, err := tx.ExecContext(ctx, s.q.InsertRuleComp, r.ID, c); err != nil {
			return wrap("insert rule component", err)
		}
	}
	return nil
}
