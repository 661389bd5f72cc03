package http

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/preview"
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
	// Preview is the email a dry run would send, rendered for a sample
	// recipient; absent when the server has no templates.
	Preview *emailPreview `json:"preview,omitempty"`
}

// planner is the fan-out planner over the current store; it wakes the
// dispatcher when it has planned something.
func (s *Server) planner() *notify.Planner {
	return &notify.Planner{Store: s.svc.Store, Metrics: s.opt.Metrics, Log: s.log, Wake: s.opt.Wake}
}

// createBroadcast sends support's message to the subscribers of the chosen
// components (or everyone): 202 with the event id and how many deliveries
// it has. The Idempotency-Key header is required: a repeat with the same
// key answers the same (marked Idempotent-Replayed) and sends nothing more.
// A dry run answers 200 with the recipient count and the rendered email
// (preview), and writes nothing.
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
		out := broadcastResponse{Recipients: res.Recipients, DryRun: true}
		if out.Preview, err = preview.EventEmail(s.opt.Previews.Templates, res.Event, time.Now()); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, out)
	}
	if res.Replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	} else {
		s.audit(c, "broadcast.create", "event", res.Event.ID, map[string]any{
			"subject": res.Event.Payload.Broadcast.Subject, "components": res.Event.ComponentIDs, "recipients": res.Recipients})
	}
	return c.JSON(http.StatusAccepted, broadcastResponse{ID: res.Event.ID, Recipients: res.Recipients})
}
