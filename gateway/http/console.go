package http

import (
	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway/console"
)

// consoleRoutes mounts the support console at /console. It gets the same
// services the API handlers use (store, incidents, subscribers, previews,
// the dispatcher's Wake), through getters because they arrive after
// start-up, and maps errors onto statuses through errstatus, as the API
// does.
func (s *Server) consoleRoutes(e *echo.Echo) {
	console.Register(e, console.Options{
		Store:       s.Store,
		Incidents:   s.inc.Load,
		Subscribers: s.subs.Load,
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
