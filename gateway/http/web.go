package http

import (
	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway/web"
)

// webRoutes registers what customers see: the status page, incident
// permalinks, the history and its feeds, the Statuspage-compatible API
// and the subscribe, confirm, manage and unsubscribe pages. On the
// starting router they have no store and answer 503 (HTML for pages, the
// JSON error shape for the API and feeds); they map errors onto statuses
// through errstatus, as the API does.
func (s *Server) webRoutes(e *echo.Echo) {
	var svc Services
	if s.svc != nil {
		svc = *s.svc
	}
	web.Register(e, web.Options{
		Page:        s.opt.Page,
		Store:       svc.Store,
		Subscribers: svc.Subscribers,
		Subscribe:   true,
		BodyLimit:   s.opt.PublicBodyLimit,
		Log:         s.log.With("component", "web"),
	})
}
