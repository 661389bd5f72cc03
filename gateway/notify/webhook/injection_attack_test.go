package webhook_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
)

// attack goes into every text an author or an alert chose: a header after
// a line break, markup, and Slack's own control sequences (a mention of
// everyone and a link with text of the attacker's choosing).
const attack = "Boom\r\nX-Injected: 1\r\n<script>alert(1)</script><img src=x onerror=alert(1)> <!channel> <https://evil.example|click here>"

// jsonStrings collects every string value in a decoded JSON document.
func jsonStrings(v any, out *[]string) {
	switch v := v.(type) {
	case string:
		*out = append(*out, v)
	case []any:
		for _, x := range v {
			jsonStrings(x, out)
		}
	case map[string]any:
		for _, x := range v {
			jsonStrings(x, out)
		}
	}
}

// TestInjectionBodiesAndHeaders sends events whose every text is attack in
// each format to a real receiver: no header is added, every body is valid
// JSON that carries the text as typed (statuspage, generic: data, for the
// receiver to escape where it renders), and Slack's text has its control
// characters escaped, so it cannot mention @channel, forge a link or run
// markup.
func TestInjectionBodiesAndHeaders(t *testing.T) {
	rc := newReceiver(t, status(204))
	n := newNotifier(t, webhook.Options{})
	id := int64(0)
	for _, format := range []gateway.WebhookFormat{gateway.FormatStatuspage, gateway.FormatGeneric, gateway.FormatSlack} {
		for _, et := range []gateway.EventType{gateway.EventIncidentCreated, gateway.EventIncidentUpdated,
			gateway.EventComponentStatus, gateway.EventMaintenanceScheduled, gateway.EventBroadcast} {
			id++
			m := message(t, et, format, rc.URL, id)
			p := &m.Event.Payload
			p.Page.Name = attack
			if p.Incident != nil {
				in := *p.Incident
				in.Name = attack
				p.Incident = &in
			}
			if p.Update != nil {
				u := *p.Update
				u.Body = attack
				p.Update = &u
			}
			p.Components = slices.Clone(p.Components)
			for i := range p.Components {
				p.Components[i].Name = attack
			}
			p.Affected = slices.Clone(p.Affected)
			for i := range p.Affected {
				p.Affected[i].Name = attack
			}
			if p.Incident != nil {
				p.Incident.Updates = slices.Clone(p.Incident.Updates)
				for i := range p.Incident.Updates {
					p.Incident.Updates[i].Body = attack
				}
			}
			if p.Broadcast != nil {
				p.Broadcast = &gateway.BroadcastMessage{Subject: attack, Body: attack}
			}
			if _, _, err := n.Notify(context.Background(), m); err != nil {
				t.Fatalf("%s %s: %v", format, et, err)
			}
			reqs := rc.got()
			req := reqs[len(reqs)-1]
			if req.Header.Get("X-Injected") != "" {
				t.Errorf("%s %s: an injected header arrived", format, et)
			}
			var doc any
			if err := json.Unmarshal(req.Body, &doc); err != nil {
				t.Fatalf("%s %s: body is not JSON: %v", format, et, err)
			}
			var texts []string
			jsonStrings(doc, &texts)
			if format != gateway.FormatSlack {
				carries := slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(s, "Boom") })
				if !carries || !slices.Contains(texts, attack) {
					t.Errorf("%s %s: no string carries the text as typed", format, et)
				}
				continue
			}
			for _, s := range texts {
				for _, bad := range []string{"<script", "<img", "<!channel>", "<https://evil.example"} {
					if strings.Contains(s, bad) {
						t.Errorf("slack %s: %q is not escaped in %q", et, bad, s)
					}
				}
			}
		}
	}
}

// TestInjectionRequestHeaders: the values Herald puts in a request's
// headers (webhook-id from the event id, the User-Agent from config) can
// carry no extra header: the id is reduced to safe characters, and a value
// with a line break is refused by the client before anything is sent.
func TestInjectionRequestHeaders(t *testing.T) {
	rc := newReceiver(t, status(204))
	m := message(t, gateway.EventTest, gateway.FormatGeneric, rc.URL, 1)
	m.Event.ID = "ev\r\nX-Injected: 1"
	if _, _, err := newNotifier(t, webhook.Options{}).Notify(context.Background(), m); err != nil {
		t.Fatalf("event id with a line break: %v", err)
	}
	if got := rc.got(); len(got) != 1 || got[0].Header.Get("X-Injected") != "" || strings.ContainsAny(got[0].Header.Get("webhook-id"), "\r\n :") {
		t.Errorf("event id with a line break: request headers %v", got[0].Header)
	}

	n := newNotifier(t, webhook.Options{UserAgent: "Herald\r\nX-Injected: 1"})
	_, _, err := n.Notify(context.Background(), message(t, gateway.EventTest, gateway.FormatGeneric, rc.URL, 2))
	if err == nil {
		t.Error("a User-Agent with a line break was sent")
	}
	if got := rc.got(); len(got) != 1 {
		t.Errorf("the receiver got %d requests, want only the first", len(got))
	}
}
