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
	r.POST("/components/groups/:id", gateway.RoleAdmin, groupKind.save(h))
	r.POST("/components/groups/:id/delete", gateway.RoleAdmin, groupKind.delete(h))
	r.POST("/components/groups/:id/move", gateway.RoleAdmin, groupKind.move(h))
	r.GET("/components/:id", gateway.RoleAdmin, h.componentEdit)
	r.POST("/components/:id", gateway.RoleAdmin, componentKind.save(h))
	r.POST("/components/:id/delete", gateway.RoleAdmin, componentKind.delete(h))
	r.POST("/components/:id/move", gateway.RoleAdmin, componentKind.move(h))
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
func componentForm(c echo.Context, st *store.Store, comp *gateway.Component) error {
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
	if err := componentForm(c, st, &comp); err != nil {
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
	// Others are the components it may depend on: all but itself.
	Others []gateway.Component
}

// DependsOn reports whether the component depends on id (the form's
// ticked boxes).
func (v componentEditView) DependsOn(id string) bool {
	return slices.Contains(v.Component.DependsOn, id)
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
	all, err := st.Components(ctx)
	if err != nil {
		return err
	}
	others := slices.DeleteFunc(all, func(x gateway.Component) bool { return x.ID == comp.ID })
	return h.render(c, http.StatusOK, "components-edit", "Edit "+comp.Name, componentEditView{Component: *comp, Groups: gs, Others: others})
}

// componentEditForm reads the edit form onto comp; a component moved
// into another group goes last there.
func componentEditForm(c echo.Context, ctx context.Context, st *store.Store, comp *gateway.Component) error {
	oldGroup := comp.GroupID
	if err := componentForm(c, st, comp); err != nil {
		return err
	}
	// The boxes of the form's depends_on list; the graph first, so that a
	// cycle refuses the whole form.
	if c.FormValue("depends_on_shown") != "" {
		form, err := c.FormParams()
		if err != nil {
			return err
		}
		if err := st.SetDependencies(ctx, comp.ID, form["depends_on"]); err != nil {
			return err
		}
	}
	if comp.GroupID != oldGroup {
		all, err := st.Components(ctx)
		if err != nil {
			return err
		}
		comp.Position = len(siblings(all, comp.GroupID))
	}
	return nil
}

// componentPeers are the components of id's group, in their order: those
// it moves among.
func componentPeers(ctx context.Context, st *store.Store, id string) ([]gateway.Component, error) {
	all, err := st.Components(ctx)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(all, func(x gateway.Component) bool { return x.ID == id })
	if i < 0 {
		return nil, gateway.Errorf(gateway.ENOTFOUND, "Component %q not found.", id)
	}
	return siblings(all, all[i].GroupID), nil
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
