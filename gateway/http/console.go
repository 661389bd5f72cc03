package http

import (
	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway/console"
)

// consoleRoutes mounts the support console at /console. It gets the same
// services the API handlers use (store, incidents, subscribers, catalog, previews,
// the dispatcher's Wake); on the starting router it has none, and its
// pages answer 503. It maps errors onto statuses through errstatus, as
// the API does.
func (s *Server) consoleRoutes(e *echo.Echo) {
	var svc Services
	if s.svc != nil {
		svc = *s.svc
	}
	console.Register(e, console.Options{
		Store:       svc.Store,
		Incidents:   svc.Incidents,
		Subscribers: svc.Subscribers,
		Catalog:     svc.Catalog,
		Templates:   s.opt.Previews.Templates,
		WebhookBody: s.opt.Previews.WebhookBody,
		Wake:        s.opt.Wake,
		Metrics:     s.opt.Metrics,
		Page:        s.opt.Page,
		PublicURL:   s.opt.PublicURL,
		Log:         s.log.With("component", "console"),
		SignIn:      func(outcome string) { s.opt.Metrics.ConsoleSignIns.WithLabelValues(outcome).Inc() },
	})
}
