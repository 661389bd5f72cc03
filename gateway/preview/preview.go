// Package preview renders the messages an event will send, with the very
// templates and webhook builder the channels send with, for a sample
// recipient. The admin API (template previews, broadcast dry runs) and the
// support console (an incident update's preview) both call it, so what
// support sees before sending is what subscribers get.
package preview

import (
	"fmt"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/templates"
)

// Email is one email as rendered.
type Email struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

// WebhookBody builds a webhook body as the webhook channel sends it
// (webhook.Notifier.Body).
type WebhookBody func(m *notify.Message, now time.Time) ([]byte, error)

// RenderEmail renders the email of data's event type.
func RenderEmail(set *templates.Set, data templates.EmailData) (*Email, error) {
	subject, text, html, err := set.RenderEmail(string(data.Type), data)
	if err != nil {
		return nil, fmt.Errorf("preview %s email: %w", data.Type, err)
	}
	return &Email{Subject: subject, Text: text, HTML: html}, nil
}

// sampleLinks are the manage and unsubscribe links of templates' sample
// recipient for an event type (none for a confirmation).
func sampleLinks(t gateway.EventType) (manage, unsubscribe string, err error) {
	sample, err := templates.Sample(t)
	if err != nil {
		return "", "", err
	}
	return sample.ManageURL, sample.UnsubscribeURL, nil
}

// EventEmail renders the email ev will send, to the sample recipient. An
// event not created yet (a preview before sending) is dated now. Without
// templates (a server given none) there is nothing to render: nil.
func EventEmail(set *templates.Set, ev *gateway.Event, now time.Time) (*Email, error) {
	if set == nil {
		return nil, nil
	}
	manage, unsub, err := sampleLinks(ev.Type)
	if err != nil {
		return nil, err
	}
	e := *ev
	if e.CreatedAt.IsZero() {
		e.CreatedAt = now.UTC()
	}
	return RenderEmail(set, templates.NewEmailData(&e, manage, unsub))
}

// Webhook builds the body ev sends to a sample webhook subscriber of
// format (statuspage, slack or generic).
func Webhook(body WebhookBody, ev *gateway.Event, format gateway.WebhookFormat, now time.Time) ([]byte, error) {
	manage, unsub, err := sampleLinks(ev.Type)
	if err != nil {
		return nil, err
	}
	sub := &gateway.Subscriber{ID: "s000000000000001", Kind: gateway.SubscriberWebhook,
		Address: "https://hooks.example.com/herald", Format: format}
	b, err := body(&notify.Message{Event: ev, Subscriber: sub, ManageURL: manage, UnsubscribeURL: unsub}, now)
	if err != nil {
		return nil, fmt.Errorf("preview %s webhook: %w", ev.Type, err)
	}
	return b, nil
}
