package console

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// The components screen: every component by group with its status, for
// everyone; admins create, edit, delete and reorder components and groups
// (straight to the store, audited with the API's action names); support
// sets a component's manual status through incidents.Service, the call
// behind PUT /api/v1/components/:id/status.

func (h *Handler) componentsRoutes(r Router) {
	r.GET("/components", gateway.RoleViewer, h.componentList)
	r.POST("/components", gateway.RoleAdmin, h.componentCreate)
	r.POST("/components/groups", gateway.RoleAdmin, h.groupCreate)
	r.GET("/components/groups/:id", gateway.RoleAdmin, h.groupEdit)
	r.POST("/components/groups/:id", gateway.RoleAdmin, h.groupUpdate)
	r.POST("/components/groups/:id/delete", gateway.RoleAdmin, h.groupDelete)
	r.POST("/components/groups/:id/move", gateway.RoleAdmin, h.groupMove)
	r.GET("/components/:id", gateway.RoleAdmin, h.componentEdit)
	r.POST("/components/:id", gateway.RoleAdmin, h.componentUpdate)
	r.POST("/components/:id/delete", gateway.RoleAdmin, h.componentDelete)
	r.POST("/components/:id/move", gateway.RoleAdmin, h.componentMove)
	r.POST("/components/:id/status", gateway.RoleSupport, h.componentStatus)
}

// catalog is every component and group, in the status page's order.
type catalog struct {
	components []gateway.Component
	groups     []gateway.ComponentGroup
}

func loadCatalog(ctx context.Context, st *store.Store) (*catalog, error) {
	cs, err := st.Components(ctx)
	if err != nil {
		return nil, err
	}
	gs, err := st.ComponentGroups(ctx)
	if err != nil {
		return nil, err
	}
	return &catalog{components: cs, groups: gs}, nil
}

// component finds a component by id or exact name.
func (cat *catalog) component(idOrName string) *gateway.Component {
	for i, c := range cat.components {
		if c.ID == idOrName || c.Name == idOrName {
			return &cat.components[i]
		}
	}
	return nil
}

// targets names what sub is subscribed to, groups first, in the status
// page's order.
func (cat *catalog) targets(sub gateway.Subscriber) []string {
	if sub.AllComponents {
		return []string{"All components"}
	}
	var out []string
	for _, g := range cat.groups {
		if slices.Contains(sub.GroupIDs, g.ID) {
			out = append(out, g.Name+" (group)")
		}
	}
	for _, c := range cat.components {
		if slices.Contains(sub.ComponentIDs, c.ID) {
			out = append(out, c.Name)
		}
	}
	return out
}

// groupSection is a group (or, with a zero Group, the ungrouped
// components) and its components in order.
type groupSection struct {
	Group      gateway.ComponentGroup
	Components []gateway.Component
}

type componentListView struct {
	Sections []groupSection
	Groups   []gateway.ComponentGroup
	Statuses []gateway.ComponentStatus
}

func (h *Handler) componentList(c echo.Context) error {
	st, err := h.store()
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	cat, err := loadCatalog(ctx, st)
	if err != nil {
		return err
	}
	v := componentListView{Groups: cat.groups, Statuses: gateway.ComponentStatuses}
	for _, g := range cat.groups {
		v.Sections = append(v.Sections, groupSection{Group: g, Components: siblings(cat.components, g.ID)})
	}
	if loose := siblings(cat.components, ""); len(loose) > 0 {
		v.Sections = append(v.Sections, groupSection{Components: loose})
	}
	return h.render(c, http.StatusOK, "components", "Components", v)
}

// siblings are the components of group (or the ungrouped ones for ""),
// in their order.
func siblings(all []gateway.Component, group string) []gateway.Component {
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

// componentForm reads the component form onto comp; group is a group id
// or "" for none.
func (h *Handler) componentForm(c echo.Context, st *store.Store, comp *gateway.Component) error {
	name := strings.TrimSpace(c.FormValue("name"))
	if err := gateway.ValidateName("name", name); err != nil {
		return err
	}
	comp.Name, comp.Description = name, strings.TrimSpace(c.FormValue("description"))
	comp.GroupID = ""
	if g := c.FormValue("group"); g != "" {
		grp, err := st.ComponentGroup(c.Request().Context(), g)
		if gateway.ErrorCode(err) == gateway.ENOTFOUND {
			return gateway.FieldError("group", "no such component group")
		} else if err != nil {
			return err
		}
		comp.GroupID = grp.ID
	}
	return nil
}

func (h *Handler) componentCreate(c echo.Context) error {
	st, err := h.store()
	if err != nil {
		return err
	}
	comp := gateway.Component{Position: -1} // -1: the store puts it last in its group
	if err := h.componentForm(c, st, &comp); err != nil {
		return err
	}
	if err := st.CreateComponent(c.Request().Context(), &comp); err != nil {
		return err
	}
	h.audit(c, "component.create", "component", comp.ID, map[string]any{"name": comp.Name})
	return h.redirect(c, Prefix+"/components", "Component "+comp.Name+" created.")
}

type componentEditView struct {
	Component gateway.Component
	Groups    []gateway.ComponentGroup
}

func (h *Handler) componentEdit(c echo.Context) error {
	st, err := h.store()
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	comp, err := st.Component(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	gs, err := st.ComponentGroups(ctx)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "components-edit", "Edit "+comp.Name, componentEditView{Component: *comp, Groups: gs})
}

func (h *Handler) componentUpdate(c echo.Context) error {
	st, err := h.store()
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	comp, err := st.Component(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	oldGroup := comp.GroupID
	if err := h.componentForm(c, st, comp); err != nil {
		return err
	}
	if comp.GroupID != oldGroup { // into another group: last there
		all, err := st.Components(ctx)
		if err != nil {
			return err
		}
		comp.Position = len(siblings(all, comp.GroupID))
	}
	if err := st.UpdateComponent(ctx, comp); err != nil {
		return err
	}
	h.audit(c, "component.update", "component", comp.ID, map[string]any{"name": comp.Name})
	return h.redirect(c, Prefix+"/components", "Component "+comp.Name+" saved.")
}

func (h *Handler) componentDelete(c echo.Context) error {
	st, err := h.store()
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	comp, err := st.Component(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := st.DeleteComponent(ctx, comp.ID); err != nil {
		return err
	}
	h.audit(c, "component.delete", "component", comp.ID, map[string]any{"name": comp.Name})
	return h.redirect(c, Prefix+"/components", "Component "+comp.Name+" deleted.")
}

// componentMove moves a component up or down among its group's.
func (h *Handler) componentMove(c echo.Context) error {
	st, err := h.store()
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	all, err := st.Components(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(all, func(x gateway.Component) bool { return x.ID == c.Param("id") })
	if i < 0 {
		return gateway.Errorf(gateway.ENOTFOUND, "Component %q not found.", c.Param("id"))
	}
	dir := c.FormValue("dir")
	moved, err := reorder(siblings(all, all[i].GroupID), all[i].ID, dir,
		func(x *gateway.Component) (string, *int) { return x.ID, &x.Position },
		func(x *gateway.Component) error { return st.UpdateComponent(ctx, x) })
	if err != nil {
		return err
	}
	h.audit(c, "component.update", "component", moved.ID, map[string]any{"name": moved.Name, "moved": dir})
	return h.redirect(c, Prefix+"/components", "Component "+moved.Name+" moved "+dir+".")
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
	order, err := move(len(items), i, dir)
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

// move returns the order of n items after item i moves one place in dir
// ("up" or "down"), as indexes into the old order.
func move(n, i int, dir string) ([]int, error) {
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

// componentStatus sets or clears support's manual status: the same call
// as PUT /api/v1/components/:id/status, which audits and reconciles.
func (h *Handler) componentStatus(c echo.Context) error {
	svc, err := h.incidents()
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	status := gateway.ComponentStatus(c.FormValue("status"))
	if err := svc.SetComponentStatus(ctx, Principal(c), c.Param("id"), status); err != nil {
		return err
	}
	h.wake()
	msg := "Manual status cleared: alerts decide again."
	if status != "" {
		msg = "Manual status set to " + strings.ReplaceAll(string(status), "_", " ") + "."
	}
	return h.redirect(c, Prefix+"/components", msg)
}

func (h *Handler) groupCreate(c echo.Context) error {
	st, err := h.store()
	if err != nil {
		return err
	}
	g := gateway.ComponentGroup{Position: -1}
	if err := groupForm(c, &g); err != nil {
		return err
	}
	if err := st.CreateComponentGroup(c.Request().Context(), &g); err != nil {
		return err
	}
	h.audit(c, "component_group.create", "component_group", g.ID, map[string]any{"name": g.Name})
	return h.redirect(c, Prefix+"/components", "Group "+g.Name+" created.")
}

func groupForm(c echo.Context, g *gateway.ComponentGroup) error {
	name := strings.TrimSpace(c.FormValue("name"))
	if err := gateway.ValidateName("name", name); err != nil {
		return err
	}
	g.Name, g.Description = name, strings.TrimSpace(c.FormValue("description"))
	return nil
}

func (h *Handler) groupEdit(c echo.Context) error {
	st, err := h.store()
	if err != nil {
		return err
	}
	g, err := st.ComponentGroup(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "components-group", "Edit group "+g.Name, g)
}

func (h *Handler) groupUpdate(c echo.Context) error {
	st, err := h.store()
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	g, err := st.ComponentGroup(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := groupForm(c, g); err != nil {
		return err
	}
	if err := st.UpdateComponentGroup(ctx, g); err != nil {
		return err
	}
	h.audit(c, "component_group.update", "component_group", g.ID, map[string]any{"name": g.Name})
	return h.redirect(c, Prefix+"/components", "Group "+g.Name+" saved.")
}

func (h *Handler) groupDelete(c echo.Context) error {
	st, err := h.store()
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	g, err := st.ComponentGroup(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := st.DeleteComponentGroup(ctx, g.ID); err != nil {
		return err
	}
	h.audit(c, "component_group.delete", "component_group", g.ID, map[string]any{"name": g.Name})
	return h.redirect(c, Prefix+"/components", "Group "+g.Name+" deleted.")
}

func (h *Handler) groupMove(c echo.Context) error {
	st, err := h.store()
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	gs, err := st.ComponentGroups(ctx) // in their order
	if err != nil {
		return err
	}
	dir := c.FormValue("dir")
	moved, err := reorder(gs, c.Param("id"), dir,
		func(g *gateway.ComponentGroup) (string, *int) { return g.ID, &g.Position },
		func(g *gateway.ComponentGroup) error { return st.UpdateComponentGroup(ctx, g) })
	if err != nil {
		return err
	}
	h.audit(c, "component_group.update", "component_group", moved.ID, map[string]any{"name": moved.Name, "moved": dir})
	return h.redirect(c, Prefix+"/components", "Group "+moved.Name+" moved "+dir+".")
}
