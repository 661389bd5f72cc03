package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// ComponentChange is a change to a component: only the fields that are
// set change.
type ComponentChange struct {
	Name        *string
	Description *string
	// Group is a group's id or exact name; "" removes the component from
	// its group.
	Group    *string
	Position *int
	// DependsOn names (by id or exact name) every component this one
	// depends on; it replaces the list, and an empty list clears it.
	DependsOn *[]string
	// LastInNewGroup puts a component whose group changes (and whose
	// position is not set) last in its new group, as the console's edit
	// form does; otherwise it keeps its position number.
	LastInNewGroup bool
}

// CreateComponent makes a component (operational, last in its group
// unless a position is given), with its dependencies, and audits
// "component.create". The name is required.
func (s *Service) CreateComponent(ctx context.Context, who gateway.Principal, ch ComponentChange) (*gateway.Component, error) {
	if ch.Name == nil {
		return nil, gateway.FieldError("name", "is required")
	}
	return audited(s, ctx, who, func(tx *store.Tx) (*gateway.Component, entry, error) {
		comp := &gateway.Component{Position: -1} // -1: the store puts it last in its group
		if err := applyComponent(tx, comp, ch); err != nil {
			return nil, entry{}, err
		}
		deps, err := dependsOn(tx, ch.DependsOn)
		if err != nil {
			return nil, entry{}, err
		}
		if err := tx.CreateComponent(comp); err != nil {
			return nil, entry{}, err
		}
		if deps != nil {
			// A refused graph (a cycle) rolls the new component back too.
			if err := tx.SetDependencies(comp.ID, deps); err != nil {
				return nil, entry{}, err
			}
			comp.DependsOn = slices.Sorted(slices.Values(deps))
		}
		return comp, componentEntry("create", comp), nil
	})
}

// UpdateComponent changes the component idOrName and audits
// "component.update"; it returns the component as stored.
func (s *Service) UpdateComponent(ctx context.Context, who gateway.Principal, idOrName string, ch ComponentChange) (*gateway.Component, error) {
	return audited(s, ctx, who, func(tx *store.Tx) (*gateway.Component, entry, error) {
		comp, err := tx.Component(idOrName)
		if err != nil {
			return nil, entry{}, err
		}
		oldGroup := comp.GroupID
		if err := applyComponent(tx, comp, ch); err != nil {
			return nil, entry{}, err
		}
		// The graph first: a cycle, the likeliest refusal, then changes nothing.
		deps, err := dependsOn(tx, ch.DependsOn)
		if err != nil {
			return nil, entry{}, err
		}
		if deps != nil {
			if err := tx.SetDependencies(comp.ID, deps); err != nil {
				return nil, entry{}, err
			}
		}
		if ch.LastInNewGroup && ch.Position == nil && comp.GroupID != oldGroup {
			all, err := tx.Components()
			if err != nil {
				return nil, entry{}, err
			}
			comp.Position = len(Siblings(all, comp.GroupID))
		}
		if err := tx.UpdateComponent(comp); err != nil {
			return nil, entry{}, err
		}
		if comp, err = tx.Component(comp.ID); err != nil {
			return nil, entry{}, err
		}
		return comp, componentEntry("update", comp), nil
	})
}

// DeleteComponent deletes the component idOrName (with its subscriptions
// and routing) and audits "component.delete"; it returns what was deleted.
func (s *Service) DeleteComponent(ctx context.Context, who gateway.Principal, idOrName string) (*gateway.Component, error) {
	return audited(s, ctx, who, func(tx *store.Tx) (*gateway.Component, entry, error) {
		comp, err := tx.Component(idOrName)
		if err != nil {
			return nil, entry{}, err
		}
		return comp, componentEntry("delete", comp), tx.DeleteComponent(comp.ID)
	})
}

// MoveComponent moves the component id one place up or down (dir) among
// the components of its group and audits "component.update" with the
// direction.
func (s *Service) MoveComponent(ctx context.Context, who gateway.Principal, id, dir string) (*gateway.Component, error) {
	return audited(s, ctx, who, func(tx *store.Tx) (*gateway.Component, entry, error) {
		all, err := tx.Components()
		if err != nil {
			return nil, entry{}, err
		}
		i := slices.IndexFunc(all, func(x gateway.Component) bool { return x.ID == id })
		if i < 0 {
			return nil, entry{}, gateway.Errorf(gateway.ENOTFOUND, "Component %q not found.", id)
		}
		moved, err := reorder(Siblings(all, all[i].GroupID), id, dir,
			func(x *gateway.Component) (string, *int) { return x.ID, &x.Position }, tx.UpdateComponent)
		return &moved, movedEntry(componentEntry("update", &moved), dir), err
	})
}

func componentEntry(action string, c *gateway.Component) entry {
	return entry{"component." + action, "component", c.ID, map[string]any{"name": c.Name}}
}

// applyComponent validates the change's fields that are set and copies
// them onto comp, resolving the group.
func applyComponent(tx *store.Tx, comp *gateway.Component, ch ComponentChange) error {
	if ch.Name != nil {
		if err := gateway.ValidateName("name", *ch.Name); err != nil {
			return err
		}
		comp.Name = *ch.Name
	}
	if ch.Description != nil {
		comp.Description = *ch.Description
	}
	if ch.Position != nil {
		if *ch.Position < 0 {
			return gateway.FieldError("position", "must be 0 or more")
		}
		comp.Position = *ch.Position
	}
	if ch.Group != nil {
		comp.GroupID = ""
		if *ch.Group != "" {
			g, err := tx.ComponentGroup(*ch.Group)
			if gateway.ErrorCode(err) == gateway.ENOTFOUND {
				return gateway.FieldError("group", "no component group with this id or name")
			} else if err != nil {
				return err
			}
			comp.GroupID = g.ID
		}
	}
	return nil
}

// dependsOn resolves a depends_on list of ids or names to ids; nil when
// the change has none (the edges stay as they are).
func dependsOn(tx *store.Tx, names *[]string) ([]string, error) {
	if names == nil {
		return nil, nil
	}
	ids := []string{}
	for i, n := range *names {
		dep, err := tx.Component(n)
		if gateway.ErrorCode(err) == gateway.ENOTFOUND {
			return nil, gateway.FieldError(fmt.Sprintf("depends_on[%d]", i), "no component with this id or name")
		} else if err != nil {
			return nil, err
		}
		ids = append(ids, dep.ID)
	}
	return ids, nil
}

// Siblings are the components of group (or the ungrouped ones for ""),
// in the status page's order: by position, then by name.
func Siblings(all []gateway.Component, group string) []gateway.Component {
	var out []gateway.Component
	for _, c := range all {
		if c.GroupID == group {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b gateway.Component) int {
		if a.Position != b.Position {
			return a.Position - b.Position
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}
