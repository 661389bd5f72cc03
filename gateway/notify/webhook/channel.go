package webhook

import (
	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
)

// Channel describes webhooks to Herald (see notify.Channel). Its
// subscribers are added in package subscribers, which also takes their
// body format and signing secret, so it has no Address check of its own.
var Channel = notify.Channel{Kind: gateway.SubscriberWebhook, Build: build}

// build sends through the shared client that refuses private targets
// unless allow_private_targets is set.
func build(env notify.Env) (notify.Notifier, func(), error) {
	cfg := env.Config
	n, err := New(Options{
		Client:    NewClient(ClientOptions{AllowPrivate: cfg.AllowPrivateTargets, PerHost: cfg.Delivery.WebhookPerHost}),
		PerHost:   cfg.Delivery.WebhookPerHost,
		Templates: env.Templates,
		Logger:    env.Log.With("component", "webhook"),
	})
	if err != nil {
		return nil, nil, err
	}
	return n, nil, nil
}
