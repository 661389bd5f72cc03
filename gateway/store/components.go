package store

import (
	"context"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/heraldstatus/herald/gateway"
)

// componentQueries are the statements of queries/components.sql.
type componentQueries struct {
	ListGroups       string `query:"list-groups"`
	GetGroup         string `query:"get-group"`
	InsertGroup      string `query:"insert-group"`
	UpdateGroup      string `query:"update-group"`
	DeleteGroup      string `query:"delete-group"`
	ListComponents   string `query:"list-components"`
	GetComponent     string `query:"get-component"`
	InsertComponent  string `query:"insert-component"`
	UpdateComponent  string `query:"update-component"`
	DeleteComponent  string `query:"delete-component"`
	NextGroupPos     string `query:"next-group-position"`
	NextComponentPos string `query:"next-component-position"`
	SyncUpdateGroup  string `query:"sync-update-group"`
	SyncUpdateComp   string `query:"sync-update-component"`
	LockConfigSync   string `query:"lock-config-sync"`
	ListDeps         string `query:"list-dependencies"`
	InsertDep        string `query:"insert-dependency"`
	DeleteDeps       string `query:"delete-dependencies"`
	LockDeps         string `query:"lock-dependencies"`
	TouchComponent   string `query:"touch-component"`
}

// ComponentGroups lists every group in page order.
func (s *Store) ComponentGroups(ctx context.Context) ([]gateway.ComponentGroup, error) {
	var out []gateway.ComponentGroup
	err := s.db.SelectContext(ctx, &out, s.q.ListGroups)
	return out, wrap("list groups", err)
}

// ComponentGroup finds a group by id or exact name; ENOTFOUND when none.
func (s *Store) ComponentGroup(ctx context.Context, idOrName string) (*gateway.ComponentGroup, error) {
	return getGroup(ctx, s.db, s.q, idOrName)
}

func getGroup(ctx context.Context, q sqlx.QueryerContext, qs *queries, idOrName string) (*gateway.ComponentGroup, error) {
	var g gateway.ComponentGroup
	if err := sqlx.GetContext(ctx, q, &g, qs.GetGroup, idOrName, idOrName); err != nil {
		if gateway.ErrorCode(mapError(err)) == gateway.ENOTFOUND {
			return nil, notFound("Component group", idOrName)
		}
		return nil, wrap("get group", err)
	}
	return &g, nil
}

// CreateComponentGroup inserts g, filling its id, times and (when < 0)
// position; a taken name is ECONFLICT.
func (s *Store) CreateComponentGroup(ctx context.Context, g *gateway.ComponentGroup) error {
	return s.InTx(ctx, func(t *Tx) error { return t.CreateComponentGroup(g) })
}

// CreateComponentGroup is Store.CreateComponentGroup inside the transaction.
func (t *Tx) CreateComponentGroup(g *gateway.ComponentGroup) error {
	return t.s.insertGroup(t.ctx, t.tx, g)
}

func (s *Store) insertGroup(ctx context.Context, tx *sqlx.Tx, g *gateway.ComponentGroup) error {
	now := s.now()
	g.ID, g.CreatedAt, g.UpdatedAt = gateway.NewID(), now, now
	if g.Origin == "" {
		g.Origin = gateway.OriginAPI
	}
	if g.Position < 0 {
		if err := tx.GetContext(ctx, &g.Position, s.q.NextGroupPos); err != nil {
			return wrap("next group position", err)
		}
	}
	_, err := tx.ExecContext(ctx, s.q.InsertGroup, g.ID, g.Name, g.Description, g.Position, g.Origin, now, now)
	return conflictName(wrap("insert group", err), "component group", g.Name)
}

// UpdateComponentGroup writes g's name, description and position.
func (s *Store) UpdateComponentGroup(ctx context.Context, g *gateway.ComponentGroup) error {
	return s.InTx(ctx, func(t *Tx) error { return t.UpdateComponentGroup(g) })
}

// UpdateComponentGroup is Store.UpdateComponentGroup inside the transaction.
func (t *Tx) UpdateComponentGroup(g *gateway.ComponentGroup) error {
	g.UpdatedAt = t.s.now()
	res, err := t.tx.ExecContext(t.ctx, t.s.q.UpdateGroup, g.Name, g.Description, g.Position, g.UpdatedAt, g.ID)
	if err != nil {
		return conflictName(wrap("update group", err), "component group", g.Name)
	}
	return mustAffect(res, "Component group", g.ID)
}

// DeleteComponentGroup removes a group; its components stay, ungrouped.
func (s *Store) DeleteComponentGroup(ctx context.Context, id string) error {
	return s.InTx(ctx, func(t *Tx) error { return t.DeleteComponentGroup(id) })
}

// DeleteComponentGroup is Store.DeleteComponentGroup inside the transaction.
func (t *Tx) DeleteComponentGroup(id string) error {
	res, err := t.tx.ExecContext(t.ctx, t.s.q.DeleteGroup, id)
	if err != nil {
		return wrap("delete group", err)
	}
	return mustAffect(res, "Component group", id)
}

// ComponentGroup finds a group by id or exact name inside the
// transaction; ENOTFOUND when none.
func (t *Tx) ComponentGroup(idOrName string) (*gateway.ComponentGroup, error) {
	return getGroup(t.ctx, t.tx, t.s.q, idOrName)
}

// Components lists every component in page order (by group, then position).
func (s *Store) Components(ctx context.Context) ([]gateway.Component, error) {
	var out []gateway.Component
	if err := s.db.SelectContext(ctx, &out, s.q.ListComponents); err != nil {
		return nil, wrap("list components", err)
	}
	edges, err := s.dependencies(ctx, s.db)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].DependsOn = edges[out[i].ID]
	}
	return out, nil
}

// Component finds a component by id or exact name; ENOTFOUND when none.
func (s *Store) Component(ctx context.Context, idOrName string) (*gateway.Component, error) {
	return s.component(ctx, s.db, idOrName)
}

// Component finds a component by id or exact name inside the transaction,
// with what it depends on; ENOTFOUND when none.
func (t *Tx) Component(idOrName string) (*gateway.Component, error) {
	return t.s.component(t.ctx, t.tx, idOrName)
}

func (s *Store) component(ctx context.Context, q sqlx.QueryerContext, idOrName string) (*gateway.Component, error) {
	c, err := getComponent(ctx, q, s.q, idOrName)
	if err != nil {
		return nil, err
	}
	edges, err := s.dependencies(ctx, q)
	if err != nil {
		return nil, err
	}
	c.DependsOn = edges[c.ID]
	return c, nil
}

func getComponent(ctx context.Context, q sqlx.QueryerContext, qs *queries, idOrName string) (*gateway.Component, error) {
	var c gateway.Component
	if err := sqlx.GetContext(ctx, q, &c, qs.GetComponent, idOrName, idOrName); err != nil {
		if gateway.ErrorCode(mapError(err)) == gateway.ENOTFOUND {
			return nil, notFound("Component", idOrName)
		}
		return nil, wrap("get component", err)
	}
	return &c, nil
}

// CreateComponent inserts c as operational, filling its id, times and (when
// < 0) position at the end of its group. An unknown group is EUNPROCESSABLE
// naming "group"; a taken name is ECONFLICT.
func (s *Store) CreateComponent(ctx context.Context, c *gateway.Component) error {
	return s.InTx(ctx, func(t *Tx) error { return t.CreateComponent(c) })
}

// CreateComponent is Store.CreateComponent inside the transaction.
func (t *Tx) CreateComponent(c *gateway.Component) error { return t.s.insertComponent(t.ctx, t.tx, c) }

func (s *Store) insertComponent(ctx context.Context, tx *sqlx.Tx, c *gateway.Component) error {
	now := s.now()
	c.ID, c.CreatedAt, c.UpdatedAt, c.StatusChangedAt = gateway.NewID(), now, now, now
	c.Status = gateway.Operational
	if c.Origin == "" {
		c.Origin = gateway.OriginAPI
	}
	if c.Position < 0 {
		if err := tx.GetContext(ctx, &c.Position, s.q.NextComponentPos, c.GroupID, c.GroupID); err != nil {
			return wrap("next component position", err)
		}
	}
	_, err := tx.ExecContext(ctx, s.q.InsertComponent, c.ID, c.GroupID, c.Name, c.Description, c.Position, now, c.Origin, now, now)
	if gateway.ErrorCode(mapError(err)) == gateway.EUNPROCESSABLE {
		return gateway.FieldError("group", "no such component group")
	}
	return conflictName(wrap("insert component", err), "component", c.Name)
}

// UpdateComponent writes c's group, name, description and position.
func (s *Store) UpdateComponent(ctx context.Context, c *gateway.Component) error {
	return s.InTx(ctx, func(t *Tx) error { return t.UpdateComponent(c) })
}

// UpdateComponent is Store.UpdateComponent inside the transaction.
func (t *Tx) UpdateComponent(c *gateway.Component) error {
	c.UpdatedAt = t.s.now()
	res, err := t.tx.ExecContext(t.ctx, t.s.q.UpdateComponent, c.GroupID, c.Name, c.Description, c.Position, c.UpdatedAt, c.ID)
	if err != nil {
		if gateway.ErrorCode(mapError(err)) == gateway.EUNPROCESSABLE {
			return gateway.FieldError("group", "no such component group")
		}
		return conflictName(wrap("update component", err), "component", c.Name)
	}
	return mustAffect(res, "Component", c.ID)
}

// DeleteComponent removes a component with its subscriptions and routing.
func (s *Store) DeleteComponent(ctx context.Context, id string) error {
	return s.InTx(ctx, func(t *Tx) error { return t.DeleteComponent(id) })
}

// DeleteComponent is Store.DeleteComponent inside the transaction.
func (t *Tx) DeleteComponent(id string) error {
	res, err := t.tx.ExecContext(t.ctx, t.s.q.DeleteComponent, id)
	if err != nil {
		return wrap("delete component", err)
	}
	return mustAffect(res, "Component", id)
}

// conflictName rewrites a unique violation as a message naming the field.
func conflictName(err error, what, name string) error {
	if gateway.ErrorCode(err) == gateway.ECONFLICT {
		return &gateway.Error{Code: gateway.ECONFLICT, Message: "A " + what + " named " + quote(name) + " already exists.",
			Fields: map[string]string{"name": "is taken"}, Err: err}
	}
	return err
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

type affecter interface{ RowsAffected() (int64, error) }

func mustAffect(res affecter, what, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return wrap("rows affected", err)
	}
	if n == 0 {
		return notFound(what, id)
	}
	return nil
}
