package console

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// catalogKind is what the components screen's actions on a component and
// on a group differ in: their words, their audit names and their store
// calls. Saving, deleting and moving one are otherwise the same steps, so
// they are written once, here.
type catalogKind[T any] struct {
	noun   string // "Component" or "Group": each message starts with it
	target string // the audit target type; its actions are target+".update", …
	key    func(*T) (id string, position *int)
	name   func(*T) string
	get    func(st *store.Store, ctx context.Context, idOrName string) (*T, error)
	update func(st *store.Store, ctx context.Context, item *T) error
	remove func(st *store.Store, ctx context.Context, id string) error
	// form reads the edit form onto item.
	form func(c echo.Context, ctx context.Context, st *store.Store, item *T) error
	// peers are the items that id moves up or down among, in their order.
	peers func(ctx context.Context, st *store.Store, id string) ([]T, error)
}

var componentKind = catalogKind[gateway.Component]{
	noun: "Component", target: "component",
	key:  func(x *gateway.Component) (string, *int) { return x.ID, &x.Position },
	name: func(x *gateway.Component) string { return x.Name },
	get:  (*store.Store).Component, update: (*store.Store).UpdateComponent, remove: (*store.Store).DeleteComponent,
	form: componentEditForm, peers: componentPeers,
}

var groupKind = catalogKind[gateway.ComponentGroup]{
	noun: "Group", target: "component_group",
	key:  func(x *gateway.ComponentGroup) (string, *int) { return x.ID, &x.Position },
	name: func(x *gateway.ComponentGroup) string { return x.Name },
	get:  (*store.Store).ComponentGroup, update: (*store.Store).UpdateComponentGroup, remove: (*store.Store).DeleteComponentGroup,
	form: func(c echo.Context, _ context.Context, _ *store.Store, g *gateway.ComponentGroup) error {
		return groupForm(c, g)
	},
	peers: func(ctx context.Context, st *store.Store, _ string) ([]gateway.ComponentGroup, error) {
		return st.ComponentGroups(ctx) // in their order
	},
}

// onItem serves fn on the item of the path's :id.
func (k catalogKind[T]) onItem(h *Handler, fn func(c echo.Context, ctx context.Context, st *store.Store, item *T) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		return h.withStore(c, func(ctx context.Context, st *store.Store) error {
			item, err := k.get(st, ctx, c.Param("id"))
			if err != nil {
				return err
			}
			return fn(c, ctx, st, item)
		})
	}
}

// save changes the item of the path's :id as its edit form says.
func (k catalogKind[T]) save(h *Handler) echo.HandlerFunc {
	return k.onItem(h, func(c echo.Context, ctx context.Context, st *store.Store, item *T) error {
		if err := k.form(c, ctx, st, item); err != nil {
			return err
		}
		if err := k.update(st, ctx, item); err != nil {
			return err
		}
		return k.done(h, c, item, "update", "saved.", "")
	})
}

// delete deletes the item of the path's :id.
func (k catalogKind[T]) delete(h *Handler) echo.HandlerFunc {
	return k.onItem(h, func(c echo.Context, ctx context.Context, st *store.Store, item *T) error {
		id, _ := k.key(item)
		if err := k.remove(st, ctx, id); err != nil {
			return err
		}
		return k.done(h, c, item, "delete", "deleted.", "")
	})
}

// move moves the item of the path's :id one place in the form's dir
// ("up" or "down") among its peers.
func (k catalogKind[T]) move(h *Handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		return h.withStore(c, func(ctx context.Context, st *store.Store) error {
			peers, err := k.peers(ctx, st, c.Param("id"))
			if err != nil {
				return err
			}
			dir := c.FormValue("dir")
			moved, err := reorder(peers, c.Param("id"), dir, k.key,
				func(x *T) error { return k.update(st, ctx, x) })
			if err != nil {
				return err
			}
			return k.done(h, c, &moved, "update", "moved "+dir+".", dir)
		})
	}
}

// done audits action on item (with the direction it moved, if it did)
// and returns to the components screen saying what happened.
func (k catalogKind[T]) done(h *Handler, c echo.Context, item *T, action, happened, moved string) error {
	id, _ := k.key(item)
	detail := map[string]any{"name": k.name(item)}
	if moved != "" {
		detail["moved"] = moved
	}
	h.audit(c, k.target+"."+action, k.target, id, detail)
	return h.redirect(c, Prefix+"/components", k.noun+" "+k.name(item)+" "+happened)
}
