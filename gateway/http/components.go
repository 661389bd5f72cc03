package http

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/catalog"
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
	comp, err := s.svc.Catalog.CreateComponent(c.Request().Context(), principal(c), req.change())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toComponentJSON(*comp))
}

func (s *Server) updateComponent(c echo.Context) error {
	var req componentRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	comp, err := s.svc.Catalog.UpdateComponent(c.Request().Context(), principal(c), c.Param("id"), req.change())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toComponentJSON(*comp))
}

func (req componentRequest) change() catalog.ComponentChange {
	return catalog.ComponentChange{Name: req.Name, Description: req.Description, Group: req.Group,
		Position: req.Position, DependsOn: req.DependsOn}
}

func (s *Server) deleteComponent(c echo.Context) error {
	if _, err := s.svc.Catalog.DeleteComponent(c.Request().Context(), principal(c), c.Param("id")); err != nil {
		return err
	}
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
	g, err := s.svc.Catalog.CreateGroup(c.Request().Context(), principal(c), catalog.GroupChange(req))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, g)
}

func (s *Server) updateGroup(c echo.Context) error {
	var req groupRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	g, err := s.svc.Catalog.UpdateGroup(c.Request().Context(), principal(c), c.Param("id"), catalog.GroupChange(req))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, g)
}

func (s *Server) deleteGroup(c echo.Context) error {
	if _, err := s.svc.Catalog.DeleteGroup(c.Request().Context(), principal(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// audit records an admin action; a failure to record is logged, not
// returned, because the action itself has already happened.
func (s *Server) audit(c echo.Context, action, targetType, targetID string, detail map[string]any) {
	if err := s.svc.Store.Audit(c.Request().Context(), principal(c), action, targetType, targetID, detail); err != nil {
		s.log.Error("write audit log", "err", err, "action", action)
	}
}
