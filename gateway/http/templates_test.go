package http_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/templates"
)

// previews returns the previews a herald serves with: the default
// templates and the webhook channel's bodies.
func previews(t *testing.T) herhttp.Previews {
	t.Helper()
	set, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	hook, err := webhook.New(webhook.Options{Client: webhook.NewClient(webhook.ClientOptions{}), Templates: set})
	if err != nil {
		t.Fatal(err)
	}
	return herhttp.Previews{Templates: set, WebhookBody: hook.Body}
}

type emailPreview struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

func TestTemplatePreview(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	pv := previews(t)
	e := newEnv(t, st, herhttp.Options{Previews: pv})

	// Every event type's email is what the templates render from the sample.
	for _, et := range templates.EventTypes() {
		t.Run(string(et), func(t *testing.T) {
			r := e.do("GET", "/api/v1/templates/"+string(et)+"/preview", gateway.RoleViewer, "")
			var got emailPreview
			r.decode(t, &got)
			data, err := templates.Sample(et)
			if err != nil {
				t.Fatal(err)
			}
			subject, text, html, err := pv.Templates.RenderEmail(string(et), data)
			if err != nil {
				t.Fatal(err)
			}
			if r.status != 200 || got != (emailPreview{subject, text, html}) {
				t.Errorf("got %d %s, want 200 with subject %q", r.status, r.body, subject)
			}
		})
	}

	// Every event type has a webhook body in every format.
	for _, et := range templates.EventTypes() {
		for _, f := range []string{"statuspage", "slack", "generic"} {
			r := e.do("GET", "/api/v1/templates/"+string(et)+"/preview?channel=webhook&format="+f, gateway.RoleViewer, "")
			if r.status != 200 || !json.Valid([]byte(r.body)) {
				t.Errorf("%s %s webhook = %d %s, want 200 with JSON", et, f, r.status, r.body)
			}
		}
	}

	// Webhook bodies, in each format (statuspage by default).
	for _, tt := range []struct{ query, key string }{
		{"channel=webhook", "meta"},
		{"channel=webhook&format=statuspage", "meta"},
		{"channel=webhook&format=slack", "blocks"},
		{"channel=webhook&format=generic", "unsubscribe_url"},
	} {
		r := e.do("GET", "/api/v1/templates/incident.created/preview?"+tt.query, gateway.RoleViewer, "")
		var body map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r.body), &body); err != nil || r.status != 200 || body[tt.key] == nil {
			t.Errorf("%s: got %d %s, want 200 with %q", tt.query, r.status, r.body, tt.key)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type = %q, want JSON", tt.query, ct)
		}
	}

	// Refusals.
	for _, tt := range []struct {
		path   string
		role   gateway.Role
		status int
	}{
		{"/api/v1/templates/incident.created/preview", "", 401},
		{"/api/v1/templates/nope/preview", gateway.RoleViewer, 404},
		{"/api/v1/templates/incident.created/preview?channel=sms", gateway.RoleViewer, 422},
		{"/api/v1/templates/incident.created/preview?channel=webhook&format=xml", gateway.RoleViewer, 422},
		{"/api/v1/templates/incident.created/preview?format=slack", gateway.RoleViewer, 422},
	} {
		if r := e.do("GET", tt.path, tt.role, ""); r.status != tt.status {
			t.Errorf("GET %s as %q = %d %s, want %d", tt.path, tt.role, r.status, r.body, tt.status)
		}
	}

	// A server without templates says so.
	bare := e.also(st, herhttp.Options{})
	if r := bare.do("GET", "/api/v1/templates/incident.created/preview", gateway.RoleViewer, ""); r.status != 503 {
		t.Errorf("without templates = %d %s, want 503", r.status, r.body)
	}
}

// also runs a second server with opt on e's store, with e's keys.
func (e *env) also(st *store.Store, opt herhttp.Options) *env {
	e.t.Helper()
	opt.Log = storetest.Logger(e.t)
	srv := herhttp.New(opt)
	srv.Publish(herhttp.Services{Store: st})
	ts := httptest.NewServer(srv.Handler())
	e.t.Cleanup(ts.Close)
	return &env{t: e.t, url: ts.URL, srv: srv, keys: e.keys}
}

// A broadcast's dry run shows the email as it would be sent.
func TestBroadcastDryRunPreview(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{Previews: previews(t), Page: gateway.PageInfo{Name: "Eptura", URL: "https://status.example.com"}})
		storetest.AddSubscriber(t, st, storetest.Subscriber{Address: "a@example.com", All: true})
		r := e.broadcast(gateway.RoleSupport, "", `{"subject":"Database upgrade","body":"Tonight <b>at ten</b>.","dry_run":true}`)
		var out struct {
			Recipients int           `json:"recipients"`
			Preview    *emailPreview `json:"preview"`
		}
		r.decode(t, &out)
		if r.status != 200 || out.Recipients != 1 || out.Preview == nil {
			t.Fatalf("dry run = %d %s, want 200 with a preview", r.status, r.body)
		}
		p := out.Preview
		if !strings.Contains(p.Subject, "Database upgrade") {
			t.Errorf("subject = %q, want the broadcast's", p.Subject)
		}
		if !strings.Contains(p.Text, "Tonight <b>at ten</b>.") {
			t.Errorf("text lacks the body:\n%s", p.Text)
		}
		if !strings.Contains(p.HTML, "Tonight &lt;b&gt;at ten&lt;/b&gt;.") {
			t.Errorf("html lacks the escaped body:\n%s", p.HTML)
		}

		// Without templates, a dry run still counts.
		bare := e.also(st, herhttp.Options{})
		r = bare.broadcast(gateway.RoleSupport, "", `{"subject":"s","body":"b","dry_run":true}`)
		if r.status != 200 || strings.Contains(r.body, "preview") {
			t.Errorf("dry run without templates = %d %s, want 200 without a preview", r.status, r.body)
		}
	})
}
