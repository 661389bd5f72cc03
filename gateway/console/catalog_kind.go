package console

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/catalog"
)

// catalogKind is what the components screen's actions on a component and
// on a group differ in: their words and their catalog calls. Saving,
// deleting and moving one are otherwise the same steps, so they are
// written once, here; the catalog service validates, writes and audits.
type catalogKind[T any] struct {
	noun string // "Component" or "Group": each message starts with it
	name func(*T) string
	// update saves the edit form (read by form) onto the item id.
	update func(svc *catalog.Service, ctx context.Context, who gateway.Principal, id string, c echo.Context) (*T, error)
	remove func(svc *catalog.Service, ctx context.Context, who gateway.Principal, id string) (*T, error)
	// shift moves the item id one place up or down among its peers.
	shift func(svc *catalog.Service, ctx context.Context, who gateway.Principal, id, dir string) (*T, error)
}

var componentKind = catalogKind[gateway.Component]{
	noun: "Component",
	name: func(x *gateway.Component) string { return x.Name },
	update: func(svc *catalog.Service, ctx context.Context, who gateway.Principal, id string, c echo.Context) (*gateway.Component, error) {
		ch, err := componentEditChange(c)
		if err != nil {
			return nil, err
		}
		return svc.UpdateComponent(ctx, who, id, ch)
	},
	remove: (*catalog.Service).DeleteComponent,
	shift:  (*catalog.Service).MoveComponent,
}

var groupKind = catalogKind[gateway.ComponentGroup]{
	noun: "Group",
	name: func(x *gateway.ComponentGroup) string { return x.Name },
	update: func(svc *catalog.Service, ctx context.Context, who gateway.Principal, id string, c echo.Context) (*gateway.ComponentGroup, error) {
		return svc.UpdateGroup(ctx, who, id, groupChange(c))
	},
	remove: (*catalog.Service).DeleteGroup,
	shift:  (*catalog.Service).MoveGroup,
}

// save changes the item of the path's :id as its edit form says.
func (k catalogKind[T]) save(h *Handler) echo.HandlerFunc {
	return h.withCatalog(func(c echo.Context, ctx context.Context, svc *catalog.Service) error {
		item, err := k.update(svc, ctx, Principal(c), c.Param("id"), c)
		if err != nil {
			return err
		}
		return k.done(h, c, item, "saved.")
	})
}

// delete deletes the item of the path's :id.
func (k catalogKind[T]) delete(h *Handler) echo.HandlerFunc {
	return h.withCatalog(func(c echo.Context, ctx context.Context, svc *catalog.Service) error {
		item, err := k.remove(svc, ctx, Principal(c), c.Param("id"))
		if err != nil {
			return err
		}
		return k.done(h, c, item, "deleted.")
	})
}

// move moves the item of the path's :id one place in the form's dir
// ("up" or "down") among its peers.
func (k catalogKind[T]) move(h *Handler) echo.HandlerFunc {
	return h.withCatalog(func(c echo.Context, ctx context.Context, svc *catalog.Service) error {
		dir := c.FormValue("dir")
		item, err := k.shift(svc, ctx, Principal(c), c.Param("id"), dir)
		if err != nil {
			return err
		}
		return k.done(h, c, item, "moved "+dir+".")
	})
}

// done returns to the components screen saying what happened.
func (k catalogKind[T]) done(h *Handler, c echo.Context, item *T, happened string) error {
	return h.redirect(c, Prefix+"/components", k.noun+" "+k.name(item)+" "+happened)
}
