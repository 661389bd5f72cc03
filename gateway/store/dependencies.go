package store

import (
	"context"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/heraldstatus/herald/gateway"
)

// dependencies returns the dependency graph: component id → the ids it
// depends on, sorted.
func (s *Store) dependencies(ctx context.Context, q sqlx.QueryerContext) (map[string][]string, error) {
	var rows []struct {
		ComponentID string
		DependsOnID string
	}
	if err := sqlx.SelectContext(ctx, q, &rows, s.q.ListDeps); err != nil {
		return nil, wrap("list dependencies", err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.ComponentID] = append(out[r.ComponentID], r.DependsOnID)
	}
	return out, nil
}

// Dependencies returns the dependency graph: component id → the ids of the
// components it depends on.
func (s *Store) Dependencies(ctx context.Context) (map[string][]string, error) {
	return s.dependencies(ctx, s.db)
}

// SetDependencies makes component id depend on exactly deps (ids). A change
// that would close a cycle is EUNPROCESSABLE naming "depends_on" and the
// cycle's components; an unknown id is EUNPROCESSABLE too. Changes are
// serialized, so two that are each acyclic cannot make a cycle together.
func (s *Store) SetDependencies(ctx context.Context, id string, deps []string) error {
	return s.InTx(ctx, func(t *Tx) error { return t.SetDependencies(id, deps) })
}

// SetDependencies is Store.SetDependencies inside the transaction.
func (t *Tx) SetDependencies(id string, deps []string) error {
	return t.s.setDependencies(t.ctx, t.tx, map[string][]string{id: deps}, "depends_on")
}

// setDependencies replaces the upstreams of each component in set and
// checks the resulting graph; field names the key a cycle is reported on.
func (s *Store) setDependencies(ctx context.Context, tx *sqlx.Tx, set map[string][]string, field string) error {
	if _, err := tx.ExecContext(ctx, s.q.LockDeps); err != nil {
		return wrap("lock dependencies", err)
	}
	edges, err := s.dependencies(ctx, tx)
	if err != nil {
		return err
	}
	write := map[string][]string{}
	for id, deps := range set {
		deps = slices.Compact(slices.Sorted(slices.Values(deps)))
		if slices.Equal(edges[id], deps) {
			continue
		}
		if slices.Contains(deps, id) {
			return gateway.FieldError(field, "a component cannot depend on itself")
		}
		edges[id], write[id] = deps, deps
	}
	if len(write) == 0 {
		return nil
	}
	if cycle := gateway.DependencyCycle(edges); cycle != nil {
		// Told from the component being changed: "DNS → Space Module →
		// DNS" for a change of DNS.
		ring := cycle[:len(cycle)-1]
		if i := slices.IndexFunc(ring, func(id string) bool { _, ok := write[id]; return ok }); i > 0 {
			ring = append(slices.Clone(ring[i:]), ring[:i]...)
			cycle = append(ring, ring[0])
		}
		var comps []gateway.Component
		if err := tx.SelectContext(ctx, &comps, s.q.ListComponents); err != nil {
			return wrap("list components", err)
		}
		names := map[string]string{}
		for _, c := range comps {
			names[c.ID] = c.Name
		}
		for i, id := range cycle {
			cycle[i] = names[id]
		}
		return gateway.CycleError(field, cycle)
	}
	for id, deps := range write {
		if _, err := tx.ExecContext(ctx, s.q.DeleteDeps, id); err != nil {
			return wrap("clear dependencies", err)
		}
		if _, err := tx.ExecContext(ctx, s.q.TouchComponent, s.now(), id); err != nil {
			return wrap("touch component", err)
		}
		for _, d := range deps {
			if _, err := tx.ExecContext(ctx, s.q.InsertDep, id, d); err != nil {
				if gateway.ErrorCode(mapError(err)) == gateway.EUNPROCESSABLE {
					return gateway.FieldError(field, "no component with id "+quote(d))
				}
				return wrap("insert dependency", err)
			}
		}
	}
	return nil
}
