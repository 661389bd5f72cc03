package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/channels"
	"github.com/heraldstatus/herald/gateway/config"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/metrics"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/templates"
)

// notifiers builds the delivery channels of gateway/channels from the
// configuration (each channel's Build says how: email through the SMTP
// server of HERALD_SMTP_URL or the file outbox, webhooks through the
// client that refuses private targets unless allowed). It runs before
// Herald listens, so broken template overrides or a malformed mail_from
// stop start-up with the reason. The returned close ends SMTP
// connections; call it after the dispatcher stopped.
func notifiers(cfg *config.Config, log *slog.Logger) (map[gateway.Channel]notify.Notifier, func(), error) {
	chans, _, closeAll, err := channelsOf(cfg, log)
	return chans, closeAll, err
}

// channelsOf is notifiers that also returns the previews for the HTTP
// server, which render with the templates and webhook bodies the channels
// send.
func channelsOf(cfg *config.Config, log *slog.Logger) (map[gateway.Channel]notify.Notifier, herhttp.Previews, func(), error) {
	var none herhttp.Previews
	tmpl, err := templates.Load(cfg.TemplatesDir)
	if err != nil {
		return nil, none, nil, fmt.Errorf("templates: %w", err)
	}
	chans, closeAll, err := channels.Notifiers(notify.Env{Config: cfg, Templates: tmpl, Log: log})
	if err != nil {
		return nil, none, nil, err
	}
	pv := herhttp.Previews{Templates: tmpl}
	if hook, ok := chans[gateway.ChannelWebhook].(*webhook.Notifier); ok {
		pv.WebhookBody = hook.Body
	}
	return chans, pv, closeAll, nil
}

// pageInfo names the status page in messages.
func pageInfo(cfg *config.Config) gateway.PageInfo {
	url := cfg.Page.URL
	if url == "" {
		url = cfg.PublicURL
	}
	return gateway.PageInfo{Name: cfg.Page.Name, URL: url}
}

// newDispatcher configures the dispatcher over a ready store; Run it.
func newDispatcher(st *store.Store, chans map[gateway.Channel]notify.Notifier,
	links func(*gateway.Subscriber) (manage, unsubscribe string), log *slog.Logger, m *metrics.Metrics) *notify.Dispatcher {
	return &notify.Dispatcher{Store: st, Notifiers: chans, Links: links,
		Log: log.With("component", "dispatcher"), Metrics: m}
}

// withDelivery applies the delivery block of the configuration (lease,
// send timeout, claim batch, workers) to a dispatcher.
func withDelivery(d *notify.Dispatcher, c config.Delivery) *notify.Dispatcher {
	d.Lease, d.SendTimeout = time.Duration(c.Lease), time.Duration(c.SendTimeout)
	d.BatchSize, d.Workers = c.ClaimBatch, c.Workers
	return d
}
