package http

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
)

func (s *Server) broadcastRoutes(api *echo.Group) {
	api.POST("/broadcasts", s.createBroadcast, requireRole(gateway.RoleSupport))
}

type broadcastRequest struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
	// Components are ids or exact names; omitted or empty sends to everyone.
	Components []string `json:"components"`
	DryRun     bool     `json:"dry_run"`
}

type broadcastResponse struct {
	ID         string `json:"id,omitempty"`
	Recipients int    `json:"recipients"`
	DryRun     bool   `json:"dry_run,omitempty"`
}

// planner is the fan-out planner over the current store; it wakes the
// dispatcher when it has planned something.
func (s *Server) planner() *notify.Planner {
	return &notify.Planner{Store: s.Store(), Metrics: s.opt.Metrics, Log: s.log, Wake: s.opt.Wake}
}

// createBroadcast sends support's message to the subscribers of the chosen
// components (or everyone): 202 with the event id and how many deliveries
// it has. The Idempotency-Key header is required: a repeat with the same
// key answers the same (marked Idempotent-Replayed) and sends nothing more.
// A dry run answers 200 with the recipient count and writes nothing.
func (s *Server) createBroadcast(c echo.Context) error {
	var req broadcastRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	who := principal(c)
	res, err := s.planner().Broadcast(c.Request().Context(), notify.Broadcast{
		Subject: req.Subject, Body: req.Body, Components: req.Components, DryRun: req.DryRun,
		IdempotencyKey: c.Request().Header.Get("Idempotency-Key"), Actor: who, Page: s.opt.Page,
	})
	if err != nil {
		return err
	}
	if req.DryRun {
		return c.JSON(http.StatusOK, broadcastResponse{Recipients: res.Recipients, DryRun: true})
	}
	if res.Replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	} else {
		s.audit(c, "broadcast.create", "event", res.Event.ID, map[string]any{
			"subject": res.Event.Payload.Broadcast.Subject, "components": res.Event.ComponentIDs, "recipients": res.Recipients})
	}
	return c.JSON(http.StatusAccepted, broadcastResponse{ID: res.Event.ID, Recipients: res.Recipients})
}
