package preview_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/gateway/preview"
	"github.com/heraldstatus/herald/templates"
)

// Every event type with templates previews as an email and as each
// webhook format, from the shipped templates and the real webhook builder.
func TestEveryEventPreviews(t *testing.T) {
	set, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	hook, err := webhook.New(webhook.Options{Client: webhook.NewClient(webhook.ClientOptions{}), Templates: set})
	if err != nil {
		t.Fatal(err)
	}
	for _, et := range templates.EventTypes() {
		t.Run(string(et), func(t *testing.T) {
			ev, err := templates.SampleEvent(et)
			if err != nil {
				t.Fatal(err)
			}
			mail, err := preview.EventEmail(set, ev, ev.CreatedAt)
			if err != nil {
				t.Fatal(err)
			}
			if mail.Subject == "" || mail.Text == "" || !strings.Contains(mail.HTML, "<html") {
				t.Errorf("email: %+v", mail)
			}
			for _, f := range []gateway.WebhookFormat{gateway.FormatGeneric, gateway.FormatStatuspage, gateway.FormatSlack} {
				b, err := preview.Webhook(hook.Body, ev, f, ev.CreatedAt)
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				if !json.Valid(b) {
					t.Errorf("%s: not JSON: %s", f, b)
				}
			}
		})
	}
}

// An event not sent yet (a preview before sending) is dated now: its
// email is the one an event created now would send.
func TestUnsentEventIsDatedNow(t *testing.T) {
	set, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := templates.SampleEvent(gateway.EventComponentStatus)
	if err != nil {
		t.Fatal(err)
	}
	now := ev.CreatedAt.Add(90 * 24 * time.Hour)
	unsent, sent := *ev, *ev
	unsent.CreatedAt, sent.CreatedAt = time.Time{}, now
	a, err := preview.EventEmail(set, &unsent, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := preview.EventEmail(set, &sent, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.Text, templates.Datetime(now)) || *a != *b {
		t.Errorf("unsent:\n%s\nsent now:\n%s", a.Text, b.Text)
	}
}

// A server given no templates previews no email, and says so with nil
// rather than failing the dry run that asked.
func TestNoTemplatesNoEmail(t *testing.T) {
	ev, err := templates.SampleEvent(gateway.EventBroadcast)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := preview.EventEmail(nil, ev, time.Now()); e != nil || err != nil {
		t.Errorf("without templates: %+v, %v; want nil, nil", e, err)
	}
}
