package catalog

import (
	"context"
	"slices"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// GroupChange is a change to a component group: only the fields that are
// set change.
type GroupChange struct {
	Name        *string
	Description *string
	Position    *int
}

// CreateGroup makes a component group (last on the page unless a position
// is given) and audits "component_group.create". The name is required.
func (s *Service) CreateGroup(ctx context.Context, who gateway.Principal, ch GroupChange) (*gateway.ComponentGroup, error) {
	if ch.Name == nil {
		return nil, gateway.FieldError("name", "is required")
	}
	g := &gateway.ComponentGroup{Position: -1}
	if err := applyGroup(g, ch); err != nil {
		return nil, err
	}
	return audited(s, ctx, who, func(tx *store.Tx) (*gateway.ComponentGroup, entry, error) {
		err := tx.CreateComponentGroup(g) // first: it fills the id the entry names
		return g, groupEntry("create", g), err
	})
}

// UpdateGroup changes the group idOrName and audits
// "component_group.update".
func (s *Service) UpdateGroup(ctx context.Context, who gateway.Principal, idOrName string, ch GroupChange) (*gateway.ComponentGroup, error) {
	return audited(s, ctx, who, func(tx *store.Tx) (*gateway.ComponentGroup, entry, error) {
		g, err := tx.ComponentGroup(idOrName)
		if err != nil {
			return nil, entry{}, err
		}
		if err := applyGroup(g, ch); err != nil {
			return nil, entry{}, err
		}
		return g, groupEntry("update", g), tx.UpdateComponentGroup(g)
	})
}

// DeleteGroup deletes the group idOrName (its components stay, ungrouped)
// and audits "component_group.delete"; it returns what was deleted.
func (s *Service) DeleteGroup(ctx context.Context, who gateway.Principal, idOrName string) (*gateway.ComponentGroup, error) {
	return audited(s, ctx, who, func(tx *store.Tx) (*gateway.ComponentGroup, entry, error) {
		g, err := tx.ComponentGroup(idOrName)
		if err != nil {
			return nil, entry{}, err
		}
		return g, groupEntry("delete", g), tx.DeleteComponentGroup(g.ID)
	})
}

// MoveGroup moves the group id one place up or down (dir) among the
// groups and audits "component_group.update" with the direction.
func (s *Service) MoveGroup(ctx context.Context, who gateway.Principal, id, dir string) (*gateway.ComponentGroup, error) {
	return audited(s, ctx, who, func(tx *store.Tx) (*gateway.ComponentGroup, entry, error) {
		groups, err := tx.ComponentGroups() // in their order
		if err != nil {
			return nil, entry{}, err
		}
		moved, err := reorder(groups, id, dir,
			func(x *gateway.ComponentGroup) (string, *int) { return x.ID, &x.Position }, tx.UpdateComponentGroup)
		return &moved, movedEntry(groupEntry("update", &moved), dir), err
	})
}

func groupEntry(action string, g *gateway.ComponentGroup) entry {
	return entry{"component_group." + action, "component_group", g.ID, map[string]any{"name": g.Name}}
}

// movedEntry is e with the direction an item moved in.
func movedEntry(e entry, dir string) entry {
	e.detail["moved"] = dir
	return e
}

// applyGroup validates the change's fields that are set and copies them
// onto g.
func applyGroup(g *gateway.ComponentGroup, ch GroupChange) error {
	if ch.Name != nil {
		if err := gateway.ValidateName("name", *ch.Name); err != nil {
			return err
		}
		g.Name = *ch.Name
	}
	if ch.Description != nil {
		g.Description = *ch.Description
	}
	if ch.Position != nil {
		if *ch.Position < 0 {
			return gateway.FieldError("position", "must be 0 or more")
		}
		g.Position = *ch.Position
	}
	return nil
}

// reorder moves the item id one place in dir among items (in their
// order) and saves each item whose position changes: they are renumbered
// 0, 1, … in the new order, so equal positions (from the config file, say)
// cannot make a move a no-op. key gives an item's id and its position.
func reorder[T any](items []T, id, dir string, key func(*T) (string, *int), save func(*T) error) (T, error) {
	var zero T
	i := slices.IndexFunc(items, func(x T) bool { xid, _ := key(&x); return xid == id })
	if i < 0 {
		return zero, gateway.Errorf(gateway.ENOTFOUND, "%q not found.", id)
	}
	order, err := Move(len(items), i, dir)
	if err != nil {
		return zero, err
	}
	for pos, k := range order {
		item := items[k]
		if _, at := key(&item); *at != pos {
			*at = pos
			if err := save(&item); err != nil {
				return zero, err
			}
		}
	}
	return items[i], nil
}

// Move returns the order of n items after item i moves one place in dir
// ("up" or "down"), as indexes into the old order.
func Move(n, i int, dir string) ([]int, error) {
	order := make([]int, n)
	for k := range order {
		order[k] = k
	}
	j := i - 1
	switch dir {
	case "up":
	case "down":
		j = i + 1
	default:
		return nil, gateway.FieldError("dir", "must be up or down")
	}
	if j >= 0 && j < n {
		order[i], order[j] = order[j], order[i]
	}
	return order, nil
}
