package http

import (
	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway/web"
)

// webRoutes registers what customers see: the status page, incident
// permalinks, the history and its feeds, the Statuspage-compatible API
// and the subscribe, confirm, manage and unsubscribe pages. They read the
// store and the subscribers service once set (503 until then) and map
// errors onto statuses through errstatus, as the API does.
func (s *Server) webRoutes(e *echo.Echo) {
	web.Register(e, web.Options{
		Page:        s.opt.Page,
		Store:       s.Store,
		Subscribers: s.subs.Load, // see SetSubscribers
		BodyLimit:   s.opt.PublicBodyLimit,
		Log:         s.log.With("component", "web"),
	})
}
