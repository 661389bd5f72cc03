package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/heraldstatus/herald/gateway/config"
	"github.com/heraldstatus/herald/gateway/correlate"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/metrics"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/subscribers"
)

// settings converts the config file's correlation section.
func settings(cfg *config.Config) correlate.Settings {
	c := cfg.Correlation
	return correlate.Settings{
		GroupBy: c.GroupBy, GroupWait: time.Duration(c.GroupWait), GroupInterval: time.Duration(c.GroupInterval),
		Window: time.Duration(c.Window), ResolveAfter: time.Duration(c.ResolveAfter), MinAlerts: c.MinAlerts,
		FlapChanges: c.Flap.Changes, FlapWindow: time.Duration(c.Flap.Window), Draft: c.Publish == config.PublishDraft,
		InferUpstreamMin: c.InferUpstreamMin,
	}
}

// newIncidents configures the incidents service over a ready store; Run it.
// Events it writes wake the dispatcher, so messages leave at once.
func newIncidents(cfg *config.Config, st *store.Store, log *slog.Logger, m *metrics.Metrics, wake func(), supportID string) *incidents.Service {
	return incidents.New(incidents.Options{
		Store: st, Settings: settings(cfg), Page: pageInfo(cfg), PublicURL: cfg.PublicURL, SupportSubscriberID: supportID,
		Log: log.With("component", "incidents"), EventWritten: wake,
		UpdateDue: m.IncidentUpdatesDue.Inc,
		Fired:     func(kind string) { m.IncidentTimers.WithLabelValues(kind).Inc() },
	})
}

// supportSubscriber makes support_email a confirmed subscriber of the whole
// page (support sees what customers see) and returns its id, to which
// update-due reminders are addressed; "" when no support_email is set.
// Subscribing a known address again changes nothing, so every start and
// every replica may do it.
func supportSubscriber(ctx context.Context, subs *subscribers.Service, cfg *config.Config) (string, error) {
	if cfg.SupportEmail == "" {
		return "", nil
	}
	sub, err := subs.Subscribe(ctx, subscribers.SubscribeRequest{Email: cfg.SupportEmail, All: true,
		Confirmed: true, ConsentSource: "config: support_email"})
	if err != nil {
		return "", fmt.Errorf("support_email: %w", err)
	}
	return sub.ID, nil
}
