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

// Rule finds a rule by id; ENOTFOUND when none.
func (s *Store) Rule(ctx context.Context, id string) (*gateway.Rule, error) {
	return s.rule(ctx, s.db, id)
}

// Rule is Store.Rule inside the transaction.
func (t *Tx) Rule(id string) (*gateway.Rule, error) { return t.s.rule(t.ctx, t.tx, id) }

// rule reads every rule and keeps id's: rules are few, so this spares a
// second query to keep in step with listRules.
func (s *Store) rule(ctx context.Context, q queryer, id string) (*gateway.Rule, error) {
	rules, err := s.listRules(ctx, q)
	if err != nil {
		return nil, err
	}
	for i := range rules {
		if rules[i].ID == id {
			return &rules[i], nil
		}
	}
	return nil, notFound("Rule", id)
}

// CreateRule inserts r with its components, filling its id and creation
// time and, when r.Position < 0, placing it after every other rule. An
// unknown component id is EUNPROCESSABLE naming "components".
func (s *Store) CreateRule(ctx context.Context, r *gateway.Rule) error {
	return s.InTx(ctx, func(t *Tx) error { return t.CreateRule(r) })
}

// CreateRule is Store.CreateRule inside the transaction.
func (t *Tx) CreateRule(r *gateway.Rule) error {
	if r.Origin == "" {
		r.Origin = gateway.OriginAPI
	}
	if r.Position < 0 {
		if err := t.tx.GetContext(t.ctx, &r.Position, t.s.q.NextRulePosition); err != nil {
			return wrap("next rule position", err)
		}
	}
	return ruleComponentsError(t.s.writeRule(t.ctx, t.tx, r, true))
}

// UpdateRule writes r's name, position, matchers, severity map and
// components; ENOTFOUND when it does not exist.
func (s *Store) UpdateRule(ctx context.Context, r *gateway.Rule) error {
	return s.InTx(ctx, func(t *Tx) error { return t.UpdateRule(r) })
}

// UpdateRule is Store.UpdateRule inside the transaction.
func (t *Tx) UpdateRule(r *gateway.Rule) error {
	var n int
	if err := t.tx.GetContext(t.ctx, &n, t.s.q.CountRule, r.ID); err != nil {
		return wrap("find rule", err)
	}
	if n == 0 {
		return notFound("Rule", r.ID)
	}
	return ruleComponentsError(t.s.writeRule(t.ctx, t.tx, r, false))
}

// DeleteRule removes a rule; alerts it routed keep their components and
// lose only the reference to it.
func (s *Store) DeleteRule(ctx context.Context, id string) error {
	return s.InTx(ctx, func(t *Tx) error { return t.DeleteRule(id) })
}

// DeleteRule is Store.DeleteRule inside the transaction.
func (t *Tx) DeleteRule(id string) error {
	res, err := t.tx.ExecContext(t.ctx, t.s.q.DeleteRule, id)
	if err != nil {
		return wrap("delete rule", err)
	}
	return mustAffect(res, "Rule", id)
}

// ruleComponentsError names the field when a rule refers to a component
// that does not exist (a foreign key violation).
func ruleComponentsError(err error) error {
	if gateway.ErrorCode(err) == gateway.EUNPROCESSABLE {
		return &gateway.Error{Code: gateway.EUNPROCESSABLE, Message: "components: no such component",
			Fields: map[string]string{"components": "no such component"}, Err: err}
	}
	return err
}
