package notify_test

import (
	"testing"

	"github.com/heraldstatus/herald/gateway/notify/email"
	"github.com/heraldstatus/herald/templates"
)

// defaultTemplates are the embedded templates, as Herald sends with them.
func defaultTemplates(tb testing.TB) *templates.Set {
	tb.Helper()
	tmpl, err := templates.Load("")
	if err != nil {
		tb.Fatal(err)
	}
	return tmpl
}

// mailBuilder builds messages from the default templates.
func mailBuilder(tb testing.TB) *email.Builder {
	tb.Helper()
	b, err := email.NewBuilder(email.Options{From: "Status <status@example.com>", Templates: defaultTemplates(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
