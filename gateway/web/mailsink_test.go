package web_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway/notify/email"
	"github.com/heraldstatus/herald/gateway/notify/notifytest"
	"github.com/heraldstatus/herald/internal/mailsink"
	"github.com/heraldstatus/herald/templates"
)

// startMail runs the sink and the real delivery path to it: Herald's
// templates, its email builder and SMTP channel, and the dispatcher that
// plans events and sends them. It returns the sink.
func (e *env) startMail(t *testing.T) *mailsink.Sink {
	t.Helper()
	sink := mailsink.Start(t, mailsink.Options{})
	tmpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	b, err := email.NewBuilder(email.Options{From: "Eptura Workplace Status <status@example.com>", Templates: tmpl})
	if err != nil {
		t.Fatal(err)
	}
	notifytest.RunMail(t, e.st, b, sink.URL(), e.subs.Load().Links)
	return sink
}

var confirmLink = regexp.MustCompile(`https?://[^\s"<>]+/subscribe/confirm/[A-Za-z0-9._-]+`)

// link finds the confirmation link in a message (its text part may be
// quoted-printable: soft line breaks are undone first; tokens hold no "=").
func link(t *testing.T, msg string) string {
	t.Helper()
	flat := strings.NewReplacer("=\r\n", "", "=\n", "").Replace(msg)
	l := confirmLink.FindString(flat)
	if l == "" {
		t.Fatalf("no confirmation link in:\n%s", msg)
	}
	return l
}
