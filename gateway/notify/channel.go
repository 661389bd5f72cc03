package notify

import (
	"context"
	"log/slog"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/config"
	"github.com/heraldstatus/herald/templates"
)

// Channel describes one delivery channel to the rest of Herald. Each
// channel's package (notify/email, notify/webhook, …) declares its own,
// next to its Notifier, and gateway/channels lists them: start-up builds
// the dispatcher's notifiers from that list, the subscribers service
// checks kinds and addresses with it, and the API description and the
// console show its kinds. It lives here rather than in gateway/channels
// because the channel packages import notify, and the list imports them.
type Channel struct {
	// Kind names the channel: the subscriber kind its subscribers have and
	// the channel of their deliveries (the two are the same name).
	Kind gateway.SubscriberKind
	// Build makes the channel's Notifier from the configuration at
	// start-up; an error stops start-up with its reason. close, when not
	// nil, releases what the notifier holds (connections) once the
	// dispatcher stopped.
	Build func(Env) (n Notifier, close func(), err error)
	// Address checks an address staff give for a subscriber of this kind
	// and returns it normalized; its errors are EUNPROCESSABLE naming the
	// field "address". Such subscribers are targets staff add, like
	// webhooks: active at once, shown to non-admins redacted (see
	// gateway.Subscriber.Redacted). Email and webhook leave it nil: their
	// subscribers come through flows of their own in package subscribers
	// (double opt-in; body format and signing secret).
	Address func(ctx context.Context, raw string) (string, error)
}

// Env is what a channel is built from.
type Env struct {
	Config *config.Config
	// Templates are the loaded message templates (with the overrides of
	// templates_dir), shared by every channel that renders them.
	Templates *templates.Set
	Log       *slog.Logger
}
