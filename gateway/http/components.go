package http

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
)

// list is the shape of every admin API list: {"data":[…],"next_cursor":"…"}.
type list[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

func (s *Server) componentRoutes(api *echo.Group) {
	viewer, admin := requireRole(gateway.RoleViewer), requireRole(gateway.RoleAdmin)
	api.GET("/components", s.listComponents, viewer)
	api.POST("/components", s.createComponent, admin)
	api.GET("/components/:id", s.getComponent, viewer)
	api.PATCH("/components/:id", s.updateComponent, admin)
	api.DELETE("/components/:id", s.deleteComponent, admin)

	api.GET("/component-groups", s.listGroups, viewer)
	api.POST("/component-groups", s.createGroup, admin)
	api.GET("/component-groups/:id", s.getGroup, viewer)
	api.PATCH("/component-groups/:id", s.updateGroup, admin)
	api.DELETE("/component-groups/:id", s.deleteGroup, admin)
}

type componentJSON struct {
	ID           string                   `json:"id"`
	Name         string                   `json:"name"`
	Description  string                   `json:"description"`
	GroupID      *string                  `json:"group_id"`
	Position     int                      `json:"position"`
	Status       gateway.ComponentStatus  `json:"status"`
	ManualStatus *gateway.ComponentStatus `json:"manual_status"`
	// Held names the rule that keeps the component's alerts out of any
	// open incident (min_alerts, flapping, maintenance), null when none.
	Held            *gateway.Held `json:"held"`
	StatusChangedAt time.Time     `json:"status_changed_at"`
	// DependsOn holds the ids of the components this one depends on.
	DependsOn []string       `json:"depends_on"`
	Origin    gateway.Origin `json:"origin"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

func toComponentJSON(c gateway.Component) componentJSON {
	out := componentJSON{ID: c.ID, Name: c.Name, Description: c.Description, Position: c.Position, Status: c.Status,
		StatusChangedAt: c.StatusChangedAt, DependsOn: c.DependsOn, Origin: c.Origin, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if out.DependsOn == nil {
		out.DependsOn = []string{}
	}
	if c.GroupID != "" {
		out.GroupID = &c.GroupID
	}
	if c.ManualStatus != "" {
		out.ManualStatus = &c.ManualStatus
	}
	if c.Held != "" {
		out.Held = &c.Held
	}
	return out
}

type componentRequest struct {
	Name        *string `json:"name" validate:"omitempty,max=100"`
	Description *string `json:"description" validate:"omitempty,max=2000"`
	// Group is a group's id or exact name; "" or null (on update) removes it.
	Group    *string `json:"group"`
	Position *int    `json:"position" validate:"omitempty,min=0"`
	// DependsOn names (by id or exact name) every component this one
	// depends on; it replaces the list, [] clears it.
	DependsOn *[]string `json:"depends_on"`
}

func (s *Server) listComponents(c echo.Context) error {
	cs, err := s.svc.Store.Components(c.Request().Context())
	if err != nil {
		return err
	}
	out := list[componentJSON]{Data: make([]componentJSON, 0, len(cs))}
	for _, comp := range cs {
		out.Data = append(out.Data, toComponentJSON(comp))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getComponent(c echo.Context) error {
	comp, err := s.svc.Store.Component(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toComponentJSON(*comp))
}

func (s *Server) createComponent(c echo.Context) error {
	var req componentRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return gateway.FieldError("name", "is required")
	}
	comp := gateway.Component{Name: *req.Name, Position: -1}
	if err := s.applyComponent(c, &comp, req); err != nil {
		return err
	}
	deps, err := s.dependsOn(c, req.DependsOn)
	if err != nil {
		return err
	}
	if err := s.svc.Store.CreateComponent(c.Request().Context(), &comp); err != nil {
		return err
	}
	if deps != nil {
		if err := s.svc.Store.SetDependencies(c.Request().Context(), comp.ID, deps); err != nil {
			// A refused graph (a cycle) fails the whole request: the new
			// component, which nothing refers to yet, goes again.
			_ = s.svc.Store.DeleteComponent(c.Request().Context(), comp.ID)
			return err
		}
		comp.DependsOn = slices.Sorted(slices.Values(deps))
	}
	s.audit(c, "component.create", "component", comp.ID, map[string]any{"name": comp.Name})
	return c.JSON(http.StatusCreated, toComponentJSON(comp))
}

func (s *Server) updateComponent(c echo.Context) error {
	var req componentRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	comp, err := s.svc.Store.Component(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.applyComponent(c, comp, req); err != nil {
		return err
	}
	// The graph first: a cycle, the likeliest refusal, then changes nothing.
	deps, err := s.dependsOn(c, req.DependsOn)
	if err != nil {
		return err
	}
	if deps != nil {
		if err := s.svc.Store.SetDependencies(ctx, comp.ID, deps); err != nil {
			return err
		}
	}
	if err := s.svc.Store.UpdateComponent(ctx, comp); err != nil {
		return err
	}
	if comp, err = s.svc.Store.Component(ctx, comp.ID); err != nil {
		return err
	}
	s.audit(c, "component.update", "component", comp.ID, map[string]any{"name": comp.Name})
	return c.JSON(http.StatusOK, toComponentJSON(*comp))
}

// applyComponent copies the request's fields that are present onto comp.
func (s *Server) applyComponent(c echo.Context, comp *gateway.Component, req componentRequest) error {
	if req.Name != nil {
		if err := gateway.ValidateName("name", *req.Name); err != nil {
			return err
		}
		comp.Name = *req.Name
	}
	if req.Description != nil {
		comp.Description = *req.Description
	}
	if req.Position != nil {
		comp.Position = *req.Position
	}
	if req.Group != nil {
		comp.GroupID = ""
		if *req.Group != "" {
			g, err := s.svc.Store.ComponentGroup(c.Request().Context(), *req.Group)
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
// the request has none (leave the edges as they are).
func (s *Server) dependsOn(c echo.Context, names *[]string) ([]string, error) {
	if names == nil {
		return nil, nil
	}
	ids := []string{}
	for i, n := range *names {
		dep, err := s.svc.Store.Component(c.Request().Context(), n)
		if gateway.ErrorCode(err) == gateway.ENOTFOUND {
			return nil, gateway.FieldError(fmt.Sprintf("depends_on[%d]", i), "no component with this id or name")
		} else if err != nil {
			return nil, err
		}
		ids = append(ids, dep.ID)
	}
	return ids, nil
}

func (s *Server) deleteComponent(c echo.Context) error {
	ctx := c.Request().Context()
	comp, err := s.svc.Store.Component(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.svc.Store.DeleteComponent(ctx, comp.ID); err != nil {
		return err
	}
	s.audit(c, "component.delete", "component", comp.ID, map[string]any{"name": comp.Name})
	return c.NoContent(http.StatusNoContent)
}

type groupRequest struct {
	Name        *string `json:"name" validate:"omitempty,max=100"`
	Description *string `json:"description" validate:"omitempty,max=2000"`
	Position    *int    `json:"position" validate:"omitempty,min=0"`
}

func (s *Server) listGroups(c echo.Context) error {
	gs, err := s.svc.Store.ComponentGroups(c.Request().Context())
	if err != nil {
		return err
	}
	if gs == nil {
		gs = []gateway.ComponentGroup{}
	}
	return c.JSON(http.StatusOK, list[gateway.ComponentGroup]{Data: gs})
}

func (s *Server) getGroup(c echo.Context) error {
	g, err := s.svc.Store.ComponentGroup(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, g)
}

func (s *Server) createGroup(c echo.Context) error {
	var req groupRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return gateway.FieldError("name", "is required")
	}
	g := gateway.ComponentGroup{Position: -1}
	if err := applyGroup(&g, req); err != nil {
		return err
	}
	if err := s.svc.Store.CreateComponentGroup(c.Request().Context(), &g); err != nil {
		return err
	}
	s.audit(c, "component_group.create", "component_group", g.ID, map[string]any{"name": g.Name})
	return c.JSON(http.StatusCreated, g)
}

func (s *Server) updateGroup(c echo.Context) error {
	var req groupRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	g, err := s.svc.Store.ComponentGroup(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := applyGroup(g, req); err != nil {
		return err
	}
	if err := s.svc.Store.UpdateComponentGroup(ctx, g); err != nil {
		return err
	}
	s.audit(c, "component_group.update", "component_group", g.ID, map[string]any{"name": g.Name})
	return c.JSON(http.StatusOK, g)
}

func applyGroup(g *gateway.ComponentGroup, req groupRequest) error {
	if req.Name != nil {
		if err := gateway.ValidateName("name", *req.Name); err != nil {
			return err
		}
		g.Name = *req.Name
	}
	if req.Description != nil {
		g.Description = *req.Description
	}
	if req.Position != nil {
		g.Position = *req.Position
	}
	return nil
}

func (s *Server) deleteGroup(c echo.Context) error {
	ctx := c.Request().Context()
	g, err := s.svc.Store.ComponentGroup(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.svc.Store.DeleteComponentGroup(ctx, g.ID); err != nil {
		return err
	}
	s.audit(c, "component_group.delete", "component_group", g.ID, map[string]any{"name": g.Name})
	return c.NoContent(http.StatusNoContent)
}

// audit records an admin action; a failure to record is logged, not
// returned, because the action itself has already happened.
func (s *Server) audit(c echo.Context, action, targetType, targetID string, detail map[string]any) {
	if err := s.svc.Store.Audit(c.Request().Context(), principal(c), action, targetType, targetID, detail); err != nil {
		s.log.Error("write audit log", "err", err, "action", action)
	}
}
