package email_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify/email"
)

// FuzzBuild feeds what subscribers and authors control (the address, the
// unsubscribe link, the page, incident and update text) into Build: either
// the delivery is refused as invalid, or the message parses back with
// exactly Herald's header fields, none added.
func FuzzBuild(f *testing.F) {
	f.Add("ann@example.org", "https://status.example.com/unsubscribe/t", "Eptura", "Outage", "Body\nline")
	f.Add("ann@example.org\r\nBcc: eve@example.net", "https://x/u", "P", "N", "B")
	f.Add("ann@example.org", "https://x/u\r\nBcc: eve@example.net", "P", "N", "B")
	f.Add("ann@example.org", "https://x/u", "Zürich\r\nBcc: eve@example.net", "Störung\n\nX-Evil: 1", "=?utf-8?q?=0D=0ABcc:_eve?=")
	f.Add("ann@example.org", "https://x/u", "P", "=?utf-8?q?=0D=0ABcc:_eve?=", "B")
	f.Add("\"a b\"@example.org", "http://localhost:8080/u", "", "", "")
	b := newBuilder(f, nil)
	want := []string{"Auto-Submitted", "Content-Type", "Date", "From", "In-Reply-To", "List-Id", "List-Unsubscribe",
		"List-Unsubscribe-Post", "Message-Id", "Mime-Version", "References", "Subject", "To", "X-Auto-Response-Suppress", "X-Herald-Event"}
	f.Fuzz(func(t *testing.T, addr, unsub, page, incident, body string) {
		m := message(t, gateway.EventIncidentUpdated, 1)
		m.Subscriber.Address, m.UnsubscribeURL = addr, unsub
		m.Event.Payload.Page.Name = page
		in, up := *m.Event.Payload.Incident, *m.Event.Payload.Update
		in.Name, up.Body = incident, body
		m.Event.Payload.Incident, m.Event.Payload.Update = &in, &up
		env, err := b.Build(m)
		if err != nil {
			if !errors.Is(err, email.ErrInvalid) {
				t.Fatalf("Build = %v, want nil or ErrInvalid", err)
			}
			return
		}
		p := parse(t, env.Data)
		var keys []string
		fields := p.h.Fields()
		for fields.Next() {
			keys = append(keys, fields.Key())
		}
		slices.Sort(keys)
		expect := slices.Clone(want)
		if !strings.HasPrefix(unsub, "https://") {
			expect = slices.DeleteFunc(expect, func(k string) bool { return k == "List-Unsubscribe-Post" })
		}
		if unsub == "" {
			expect = slices.DeleteFunc(expect, func(k string) bool { return k == "List-Unsubscribe" })
		}
		if !slices.Equal(keys, expect) {
			t.Fatalf("header fields %v, want %v", keys, expect)
		}
		if to, err := p.h.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != env.To {
			t.Fatalf("To = %q (%v), envelope %q", p.h.Get("To"), err, env.To)
		}
		if s, err := p.h.Subject(); err != nil || strings.ContainsAny(s, "\r\n") {
			t.Fatalf("Subject = %q (%v)", s, err)
		}
	})
}
