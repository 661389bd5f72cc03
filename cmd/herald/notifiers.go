package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/config"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/metrics"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/notify/email"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/templates"
)

// notifiers builds the delivery channels from the configuration: email
// through the SMTP server of HERALD_SMTP_URL, or the file outbox when none
// is set, DKIM-signed when dkim is configured; webhooks through the shared
// client that refuses private targets unless allowed. It runs before Herald listens, so broken template
// overrides or a malformed mail_from stop start-up with the reason. The
// returned close ends SMTP connections; call it after the dispatcher
// stopped.
func notifiers(cfg *config.Config, log *slog.Logger) (map[gateway.Channel]notify.Notifier, func(), error) {
	chans, _, closeAll, err := channels(cfg, log)
	return chans, closeAll, err
}

// channels is notifiers that also returns the previews for the HTTP
// server, which render with the templates and webhook bodies the channels
// send.
func channels(cfg *config.Config, log *slog.Logger) (map[gateway.Channel]notify.Notifier, herhttp.Previews, func(), error) {
	var none herhttp.Previews
	tmpl, err := templates.Load(cfg.TemplatesDir)
	if err != nil {
		return nil, none, nil, fmt.Errorf("templates: %w", err)
	}
	b, err := email.NewBuilder(email.Options{From: cfg.MailFrom, Templates: tmpl, DKIM: dkimSigner(cfg.DKIM)})
	if err != nil {
		return nil, none, nil, err
	}
	closeAll := func() {}
	var mail notify.Notifier
	if cfg.SMTPURL == "" {
		if mail, err = email.NewOutbox(cfg.OutboxDir, b); err != nil {
			return nil, none, nil, err
		}
	} else {
		s, err := email.NewSMTP(b, email.SMTPOptions{URL: cfg.SMTPURL, MaxConns: cfg.SMTP.MaxConns, Rate: cfg.SMTP.Rate,
			Logger: log.With("component", "smtp")})
		if err != nil {
			return nil, none, nil, err
		}
		mail, closeAll = s, func() { _ = s.Close() }
	}
	hook, err := webhook.New(webhook.Options{
		Client:    webhook.NewClient(webhook.ClientOptions{AllowPrivate: cfg.AllowPrivateTargets, PerHost: cfg.Delivery.WebhookPerHost}),
		PerHost:   cfg.Delivery.WebhookPerHost,
		Templates: tmpl,
		Logger:    log.With("component", "webhook"),
	})
	if err != nil {
		closeAll()
		return nil, none, nil, err
	}
	chans := map[gateway.Channel]notify.Notifier{gateway.ChannelEmail: mail, gateway.ChannelWebhook: hook}
	return chans, herhttp.Previews{Templates: tmpl, WebhookBody: hook.Body}, closeAll, nil
}

// dkimSigner is the configured DKIM key, nil when signing is off.
func dkimSigner(c config.DKIM) *email.DKIM {
	if !c.Enabled() {
		return nil
	}
	return &email.DKIM{Domain: c.Domain, Selector: c.Selector, Signer: c.Signer}
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
