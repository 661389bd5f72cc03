package email_test

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify/email"
)

// attack is what an author or an alert puts in every text field of an
// event: a line break with a header after it (header injection), and
// markup that would run in an HTML mail reader.
const attack = "Boom\r\nBcc: eve@example.net\r\nX-Injected: 1\r\n\r\n" +
	`<script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(3)">x</a>`

// poison writes attack into every text of ev a person or an alert chose.
func poison(ev *gateway.Event) {
	p := &ev.Payload
	p.Page.Name = "Page " + attack
	if p.Incident != nil {
		in := *p.Incident
		in.Name, in.Postmortem = "Name "+attack, "Postmortem "+attack
		p.Incident = &in
	}
	if p.Update != nil {
		u := *p.Update
		u.Body = "Update " + attack
		p.Update = &u
	}
	p.Components = slices.Clone(p.Components)
	for i := range p.Components {
		p.Components[i].Name, p.Components[i].Group = "Comp "+attack, "Group "+attack
	}
	if p.Broadcast != nil {
		p.Broadcast = &gateway.BroadcastMessage{Subject: "Subject " + attack, Body: "Body " + attack}
	}
}

var htmlLive = []*regexp.Regexp{
	regexp.MustCompile(`(?i)<script[^>]*>[^<]*alert`),
	regexp.MustCompile(`(?i)<img[^>]*onerror`),
	regexp.MustCompile(`(?i)(href|src)\s*=\s*["']?\s*javascript:`),
}

// TestInjectionEveryEventStaysInert builds the mail of every event type
// with attack in every field and reads it back with go-message: the
// header fields are exactly those of the clean message (no Bcc, no
// X-Injected), the subject is one line, and the HTML part runs nothing.
func TestInjectionEveryEventStaysInert(t *testing.T) {
	b := newBuilder(t, nil)
	for _, et := range []gateway.EventType{gateway.EventIncidentCreated, gateway.EventIncidentUpdated,
		gateway.EventIncidentResolved, gateway.EventIncidentPostmortem, gateway.EventComponentStatus,
		gateway.EventMaintenanceScheduled, gateway.EventMaintenanceStarted, gateway.EventMaintenanceCompleted,
		gateway.EventBroadcast} {
		t.Run(string(et), func(t *testing.T) {
			clean, err := b.Build(message(t, et, 1))
			if err != nil {
				t.Fatal(err)
			}
			m := message(t, et, 1)
			poison(m.Event)
			m.Event.ID += "-poisoned" // another event: a builder may keep renders by event id
			env, err := b.Build(m)
			if err != nil {
				t.Fatalf("Build refused the poisoned %s: %v (it should render it harmless)", et, err)
			}
			want, got := parse(t, clean.Data), parse(t, env.Data)
			if wk, gk := headerKeys(want), headerKeys(got); !slices.Equal(wk, gk) {
				t.Errorf("header fields = %v, want %v", gk, wk)
			}
			if got.h.Has("Bcc") || got.h.Has("X-Injected") {
				t.Error("an injected header got in")
			}
			if s, err := got.h.Subject(); err != nil || strings.ContainsAny(s, "\r\n") {
				t.Errorf("Subject = %q (%v), want one line", s, err)
			}
			for _, re := range htmlLive {
				if m := re.FindString(got.html); m != "" {
					t.Errorf("the HTML part carries live markup %q", m)
				}
			}
			if !strings.Contains(got.html, "&lt;script&gt;") && !strings.Contains(got.html, "&lt;img") {
				t.Errorf("the HTML part dropped the payload instead of escaping it:\n%s", got.html)
			}
		})
	}
}

func headerKeys(p parsed) []string {
	var keys []string
	f := p.h.Fields()
	for f.Next() {
		keys = append(keys, f.Key())
	}
	slices.Sort(keys)
	return keys
}

// TestInjectionFromDisplayName: mail_from's display name comes from
// config; a line break in it, typed or hidden in an RFC 2047 encoded word,
// never makes a header: either the config is refused or the name is
// encoded on one line.
func TestInjectionFromDisplayName(t *testing.T) {
	for _, from := range []string{
		"\"Status\r\nBcc: eve@example.net\" <status@status.example.com>",
		"Status\r\nBcc: eve@example.net <status@status.example.com>",
		"=?utf-8?q?Status=0D=0ABcc:_eve@example.net?= <status@status.example.com>",
		"=?utf-8?b?U3RhdHVzDQpCY2M6IGV2ZUBleGFtcGxlLm5ldA==?= <status@status.example.com>",
	} {
		b, err := email.NewBuilder(email.Options{From: from, Templates: tmpl(t)})
		if err != nil {
			continue // refused at start-up: fine
		}
		env, err := b.Build(message(t, gateway.EventTest, 1))
		if err != nil {
			continue // refused per message (ErrInvalid, permanent): no header either
		}
		p := parse(t, env.Data)
		if p.h.Has("Bcc") {
			t.Errorf("From %q: a Bcc header got in", from)
		}
		addrs, err := p.h.AddressList("From")
		if err != nil || len(addrs) != 1 || addrs[0].Address != "status@status.example.com" {
			t.Errorf("From %q: From = %v (%v), want the one address", from, addrs, err)
		}
	}
}

// TestInjectionRecipient: an address with a header or a second recipient
// in it is refused (ErrInvalid: permanent), never sent to.
func TestInjectionRecipient(t *testing.T) {
	b := newBuilder(t, nil)
	for _, addr := range []string{
		"ann@example.org\r\nBcc: eve@example.net", "ann@example.org\rBcc: eve@example.net",
		"ann@example.org, eve@example.net", "Ann <ann@example.org>", "ann@example.org>\r\nBcc: <eve@example.net",
		"=?utf-8?q?ann=0D=0ABcc:_eve?= <ann@example.org>",
	} {
		m := message(t, gateway.EventTest, 1)
		m.Subscriber = &gateway.Subscriber{ID: "s1", Kind: gateway.SubscriberEmail, Address: addr, Status: gateway.SubscriberActive}
		if env, err := b.Build(m); err == nil {
			t.Errorf("Build to %q = message to %q, want ErrInvalid", addr, env.To)
		} else if !errors.Is(err, email.ErrInvalid) {
			t.Errorf("Build to %q = %v, want ErrInvalid", addr, err)
		}
	}
}
