package email

import (
	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/config"
	"github.com/heraldstatus/herald/gateway/notify"
)

// Channel describes email to Herald (see notify.Channel). Its subscribers
// come through double opt-in in package subscribers, so it has no
// Address check of its own.
var Channel = notify.Channel{Kind: gateway.SubscriberEmail, Build: build}

// build sends through the SMTP server of HERALD_SMTP_URL, or writes to the
// file outbox when none is set; DKIM-signed when dkim is configured. A
// malformed mail_from stops start-up with the reason.
func build(env notify.Env) (notify.Notifier, func(), error) {
	cfg := env.Config
	b, err := NewBuilder(Options{From: cfg.MailFrom, Templates: env.Templates, DKIM: ConfiguredDKIM(cfg.DKIM)})
	if err != nil {
		return nil, nil, err
	}
	if cfg.SMTPURL == "" {
		out, err := NewOutbox(cfg.OutboxDir, b)
		return out, nil, err
	}
	s, err := NewSMTP(b, SMTPOptions{URL: cfg.SMTPURL, MaxConns: cfg.SMTP.MaxConns, Rate: cfg.SMTP.Rate,
		Logger: env.Log.With("component", "smtp")})
	if err != nil {
		return nil, nil, err
	}
	return s, func() { _ = s.Close() }, nil
}

// ConfiguredDKIM is the configured DKIM key, nil when signing is off.
func ConfiguredDKIM(c config.DKIM) *DKIM {
	if !c.Enabled() {
		return nil
	}
	return &DKIM{Domain: c.Domain, Selector: c.Selector, Signer: c.Signer}
}
