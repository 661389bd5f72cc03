package main

import (
	"log/slog"
	"time"

	"github.com/heraldstatus/herald/gateway/config"
	"github.com/heraldstatus/herald/gateway/correlate"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/metrics"
	"github.com/heraldstatus/herald/gateway/store"
)

// settings converts the config file's correlation section.
func settings(cfg *config.Config) correlate.Settings {
	c := cfg.Correlation
	return correlate.Settings{
		GroupBy: c.GroupBy, GroupWait: time.Duration(c.GroupWait), GroupInterval: time.Duration(c.GroupInterval),
		Window: time.Duration(c.Window), ResolveAfter: time.Duration(c.ResolveAfter), MinAlerts: c.MinAlerts,
		FlapChanges: c.Flap.Changes, FlapWindow: time.Duration(c.Flap.Window), Draft: c.Publish == config.PublishDraft,
	}
}

// newIncidents configures the incidents service over a ready store; Run it.
// Events it writes wake the dispatcher, so messages leave at once.
func newIncidents(cfg *config.Config, st *store.Store, log *slog.Logger, m *metrics.Metrics, wake func()) *incidents.Service {
	return incidents.New(incidents.Options{
		Store: st, Settings: settings(cfg), Page: pageInfo(cfg), PublicURL: cfg.PublicURL,
		Log: log.With("component", "incidents"), EventWritten: wake,
		UpdateDue: m.IncidentUpdatesDue.Inc,
		Fired:     func(kind string) { m.IncidentTimers.WithLabelValues(kind).Inc() },
	})
}
