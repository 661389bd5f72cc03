package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/preview"
	"github.com/heraldstatus/herald/gateway/store"
)

func (s *Server) incidentsService() (*incidents.Service, error) {
	svc := s.svc.Incidents
	if svc == nil {
		return nil, gateway.Errorf(gateway.EUNAVAILABLE, "Herald is starting; incidents are not available yet.")
	}
	return svc, nil
}

func (s *Server) incidentRoutes(api *echo.Group) {
	viewer, support := requireRole(gateway.RoleViewer), requireRole(gateway.RoleSupport)
	api.GET("/incidents", s.listIncidents(gateway.KindIncident), viewer)
	api.POST("/incidents", s.createIncident, support)
	api.GET("/incidents/:id", s.getIncident(gateway.KindIncident), viewer)
	api.PATCH("/incidents/:id", s.editIncident, support)
	api.POST("/incidents/:id/updates", s.postUpdate(gateway.KindIncident), support)
	api.POST("/incidents/:id/publish", s.publishIncident, support)
	api.POST("/incidents/:id/postmortem", s.postmortem, support)
	api.POST("/incidents/:id/resolve", s.resolveIncident, support)
	api.PUT("/components/:id/status", s.setComponentStatus, support)

	api.GET("/maintenances", s.listIncidents(gateway.KindMaintenance), viewer)
	api.POST("/maintenances", s.scheduleMaintenance, support)
	api.GET("/maintenances/:id", s.getIncident(gateway.KindMaintenance), viewer)
	api.PATCH("/maintenances/:id", s.rescheduleMaintenance, support)
	api.POST("/maintenances/:id/updates", s.postUpdate(gateway.KindMaintenance), support)
	api.DELETE("/maintenances/:id", s.cancelMaintenance, support)
}

type createIncidentRequest struct {
	Name         string                             `json:"name" validate:"required,max=100"`
	Status       gateway.IncidentStatus             `json:"status" validate:"required"`
	Impact       gateway.Impact                     `json:"impact"`
	Body         string                             `json:"body" validate:"required"`
	Components   map[string]gateway.ComponentStatus `json:"components"`
	Notify       *bool                              `json:"notify"`
	Draft        bool                               `json:"draft"`
	NextUpdateAt *time.Time                         `json:"next_update_at"`
}

type updateRequest struct {
	Status       gateway.IncidentStatus             `json:"status" validate:"required"`
	Body         string                             `json:"body" validate:"required"`
	Components   map[string]gateway.ComponentStatus `json:"components"`
	Notify       *bool                              `json:"notify"`
	NextUpdateAt *time.Time                         `json:"next_update_at"`
	// DryRun answers what the update would send and writes nothing.
	DryRun bool `json:"dry_run"`
}

// updateDryRun is the answer to an update's dry run: the message posting
// it would send (as if the incident were published and notify on, so a
// draft's first message can be read before publishing), whether posting
// it now sends anything, and to how many subscribers.
type updateDryRun struct {
	DryRun     bool              `json:"dry_run"`
	Event      gateway.EventType `json:"event"`
	Sends      bool              `json:"sends"`
	Recipients int               `json:"recipients"`
	// Preview is the email, rendered for a sample recipient; absent when
	// the server has no templates.
	Preview *emailPreview `json:"preview,omitempty"`
}

func orTrue(b *bool) bool { return b == nil || *b }

func orZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func (s *Server) listIncidents(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		f := store.IncidentFilter{Kind: kind, Status: c.QueryParam("status"), Limit: 50}
		if f.Status != "" && f.Status != "open" && f.Status != "resolved" {
			return gateway.FieldError("status", "must be open or resolved")
		}
		if l := c.QueryParam("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 1 || n > 200 {
				return gateway.FieldError("limit", "must be a number from 1 to 200")
			}
			f.Limit = n
		}
		if cur := c.QueryParam("cursor"); cur != "" {
			t, err := time.Parse(time.RFC3339Nano, cur)
			if err != nil {
				return gateway.FieldError("cursor", "is not a cursor from a previous page")
			}
			f.Before = t
		}
		list, err := s.svc.Store.Incidents(c.Request().Context(), f)
		if err != nil {
			return err
		}
		out := incidentList(list)
		if len(list) == f.Limit {
			out.NextCursor = list[len(list)-1].CreatedAt.Format(time.RFC3339Nano)
		}
		return c.JSON(http.StatusOK, out)
	}
}

func incidentList(l []gateway.Incident) list[gateway.Incident] {
	if l == nil {
		l = []gateway.Incident{}
	}
	return list[gateway.Incident]{Data: l}
}

func (s *Server) getIncident(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		inc, err := s.svc.Store.Incident(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		if inc.Kind != kind {
			return gateway.Errorf(gateway.ENOTFOUND, "%s %q not found.", kind, c.Param("id"))
		}
		return c.JSON(http.StatusOK, inc)
	}
}

func (s *Server) createIncident(c echo.Context) error {
	var req createIncidentRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	svc, err := s.incidentsService()
	if err != nil {
		return err
	}
	inc, err := svc.Create(c.Request().Context(), principal(c), incidents.NewIncident{Name: req.Name, Status: req.Status,
		Impact: req.Impact, Body: req.Body, Components: req.Components, Notify: orTrue(req.Notify), Draft: req.Draft,
		NextUpdateAt: orZero(req.NextUpdateAt), IdempotencyKey: c.Request().Header.Get("Idempotency-Key")})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, inc)
}

func (s *Server) postUpdate(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req updateRequest
		if err := bind(c, &req); err != nil {
			return err
		}
		svc, err := s.incidentsService()
		if err != nil {
			return err
		}
		inc, err := s.checkKind(c, kind)
		if err != nil {
			return err
		}
		in := incidents.NewUpdate{Status: req.Status, Body: req.Body, Components: req.Components, Notify: orTrue(req.Notify),
			NextUpdateAt: orZero(req.NextUpdateAt), IdempotencyKey: c.Request().Header.Get("Idempotency-Key")}
		if req.DryRun {
			return s.updateDryRun(c, svc, inc, in)
		}
		inc, err = svc.PostUpdate(c.Request().Context(), principal(c), c.Param("id"), in)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, inc)
	}
}

// updateDryRun answers 200 with what posting in would send
// (incidents.Service.PreviewUpdate: the update itself, rolled back).
func (s *Server) updateDryRun(c echo.Context, svc *incidents.Service, inc *gateway.Incident, in incidents.NewUpdate) error {
	ctx := c.Request().Context()
	ev, recipients, err := svc.PreviewUpdate(ctx, principal(c), inc.ID, in)
	if err != nil {
		return err
	}
	out := updateDryRun{DryRun: true, Event: ev.Type, Sends: inc.Published && in.Notify, Recipients: recipients}
	if out.Preview, err = preview.EventEmail(s.opt.Previews.Templates, ev, time.Now()); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// checkKind keeps /incidents and /maintenances apart: the incident of the
// path's id, if it is of kind.
func (s *Server) checkKind(c echo.Context, kind string) (*gateway.Incident, error) {
	inc, err := s.svc.Store.Incident(c.Request().Context(), c.Param("id"))
	if err != nil {
		return nil, err
	}
	if inc.Kind != kind {
		return nil, gateway.Errorf(gateway.ENOTFOUND, "%s %q not found.", kind, c.Param("id"))
	}
	return inc, nil
}

func (s *Server) editIncident(c echo.Context) error {
	var req struct {
		Name   *string         `json:"name"`
		Impact *gateway.Impact `json:"impact"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	svc, err := s.incidentsService()
	if err != nil {
		return err
	}
	inc, err := svc.Edit(c.Request().Context(), principal(c), c.Param("id"), req.Name, req.Impact)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, inc)
}

func (s *Server) publishIncident(c echo.Context) error {
	svc, err := s.incidentsService()
	if err != nil {
		return err
	}
	inc, err := svc.Publish(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, inc)
}

func (s *Server) postmortem(c echo.Context) error {
	var req struct {
		Body   string `json:"body" validate:"required"`
		Notify *bool  `json:"notify"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	svc, err := s.incidentsService()
	if err != nil {
		return err
	}
	inc, err := svc.Postmortem(c.Request().Context(), principal(c), c.Param("id"), req.Body, orTrue(req.Notify))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, inc)
}

func (s *Server) resolveIncident(c echo.Context) error {
	var req struct {
		Body   string `json:"body"`
		Notify *bool  `json:"notify"`
	}
	if c.Request().ContentLength != 0 {
		if err := bind(c, &req); err != nil {
			return err
		}
	}
	if req.Body == "" {
		req.Body = "This incident has been resolved."
	}
	svc, err := s.incidentsService()
	if err != nil {
		return err
	}
	if _, err := s.checkKind(c, gateway.KindIncident); err != nil {
		return err
	}
	inc, err := svc.Resolve(c.Request().Context(), principal(c), c.Param("id"),
		incidents.NewUpdate{Body: req.Body, Notify: orTrue(req.Notify), IdempotencyKey: c.Request().Header.Get("Idempotency-Key")})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, inc)
}

func (s *Server) setComponentStatus(c echo.Context) error {
	var req struct {
		// Status is support's manual status; null clears it, so alerts decide again.
		Status *gateway.ComponentStatus `json:"status"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	svc, err := s.incidentsService()
	if err != nil {
		return err
	}
	var st gateway.ComponentStatus
	if req.Status != nil {
		st = *req.Status
	}
	if err := svc.SetComponentStatus(c.Request().Context(), principal(c), c.Param("id"), st); err != nil {
		return err
	}
	comp, err := s.svc.Store.Component(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toComponentJSON(*comp))
}

type maintenanceRequest struct {
	Name           string     `json:"name" validate:"required,max=100"`
	Body           string     `json:"body" validate:"required"`
	Components     []string   `json:"components" validate:"required,min=1"`
	ScheduledFor   *time.Time `json:"scheduled_for" validate:"required"`
	ScheduledUntil *time.Time `json:"scheduled_until" validate:"required"`
	AutoTransition *bool      `json:"auto_transition"`
	Notify         *bool      `json:"notify"`
}

func (s *Server) scheduleMaintenance(c echo.Context) error {
	var req maintenanceRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	svc, err := s.incidentsService()
	if err != nil {
		return err
	}
	m, err := svc.Schedule(c.Request().Context(), principal(c), incidents.NewMaintenance{Name: req.Name, Body: req.Body,
		Components: req.Components, ScheduledFor: *req.ScheduledFor, ScheduledUntil: *req.ScheduledUntil,
		AutoTransition: orTrue(req.AutoTransition), Notify: orTrue(req.Notify), IdempotencyKey: c.Request().Header.Get("Idempotency-Key")})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, m)
}

func (s *Server) rescheduleMaintenance(c echo.Context) error {
	var req struct {
		ScheduledFor   *time.Time `json:"scheduled_for" validate:"required"`
		ScheduledUntil *time.Time `json:"scheduled_until" validate:"required"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	svc, err := s.incidentsService()
	if err != nil {
		return err
	}
	m, err := svc.Reschedule(c.Request().Context(), principal(c), c.Param("id"), *req.ScheduledFor, *req.ScheduledUntil)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

func (s *Server) cancelMaintenance(c echo.Context) error {
	svc, err := s.incidentsService()
	if err != nil {
		return err
	}
	notify := c.QueryParam("notify") != "false"
	m, err := svc.Cancel(c.Request().Context(), principal(c), c.Param("id"), notify)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}
