package console

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/catalog"
	"github.com/heraldstatus/herald/gateway/store"
)

// The components screen: every component by group with its status, for
// everyone; admins create, edit, delete and reorder components and groups
// through the catalog service, as the API does (validated, written and
// audited in one transaction, with the API's action names); support
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

// catalogView is every component and group, in the status page's order.
type catalogView struct {
	components []gateway.Component
	groups     []gateway.ComponentGroup
}

func loadCatalog(ctx context.Context, st *store.Store) (*catalogView, error) {
	cs, err := st.Components(ctx)
	if err != nil {
		return nil, err
	}
	gs, err := st.ComponentGroups(ctx)
	if err != nil {
		return nil, err
	}
	return &catalogView{components: cs, groups: gs}, nil
}

// targets names what sub is subscribed to, groups first, in the status
// page's order.
func (cat *catalogView) targets(sub gateway.Subscriber) []string {
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
	st := h.opt.Store
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
	return catalog.Siblings(all, group)
}

// move is catalog.Move, the order a move up or down makes.
var move = catalog.Move

// formValue is the form field name, trimmed, as a change's field.
func formValue(c echo.Context, name string) *string {
	v := strings.TrimSpace(c.FormValue(name))
	return &v
}

// componentChange reads the component form: name, description and group
// (a group id, or "" for none).
func componentChange(c echo.Context) catalog.ComponentChange {
	group := c.FormValue("group")
	return catalog.ComponentChange{Name: formValue(c, "name"), Description: formValue(c, "description"), Group: &group}
}

func (h *Handler) componentCreate(c echo.Context) error {
	svc := h.opt.Catalog
	comp, err := svc.CreateComponent(c.Request().Context(), Principal(c), componentChange(c))
	if err != nil {
		return err
	}
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
	st := h.opt.Store
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

// componentEditChange reads the edit form: a component moved into
// another group goes last there, and the depends_on boxes (when the form
// shows them) replace what it depends on.
func componentEditChange(c echo.Context) (catalog.ComponentChange, error) {
	ch := componentChange(c)
	ch.LastInNewGroup = true
	if c.FormValue("depends_on_shown") != "" {
		form, err := c.FormParams()
		if err != nil {
			return ch, err
		}
		deps := form["depends_on"]
		if deps == nil {
			deps = []string{}
		}
		ch.DependsOn = &deps
	}
	return ch, nil
}

// componentStatus sets or clears support's manual status: the same call
// as PUT /api/v1/components/:id/status, which audits and reconciles.
func (h *Handler) componentStatus(c echo.Context) error {
	svc := h.opt.Incidents
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
	svc := h.opt.Catalog
	g, err := svc.CreateGroup(c.Request().Context(), Principal(c), groupChange(c))
	if err != nil {
		return err
	}
	return h.redirect(c, Prefix+"/components", "Group "+g.Name+" created.")
}

// groupChange reads the group form: name and description.
func groupChange(c echo.Context) catalog.GroupChange {
	return catalog.GroupChange{Name: formValue(c, "name"), Description: formValue(c, "description")}
}

func (h *Handler) groupEdit(c echo.Context) error {
	st := h.opt.Store
	g, err := st.ComponentGroup(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "components-group", "Edit group "+g.Name, g)
}
