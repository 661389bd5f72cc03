package http_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/subscribers"
)

// subscribersEnv is a server with one component, App, and, when setSvc,
// the subscribers service.
func subscribersEnv(t *testing.T, st *store.Store, setSvc bool) *env {
	t.Helper()
	e := newEnv(t, st, herhttp.Options{})
	if !setSvc {
		return e
	}
	return withSubscribers(t, e, st)
}

func withSubscribers(t *testing.T, e *env, st *store.Store) *env {
	t.Helper()
	if r := e.do("POST", "/api/v1/components", gateway.RoleAdmin, `{"name":"App"}`); r.status != 201 {
		t.Fatalf("create component: %d %s", r.status, r.body)
	}
	key, err := subscribers.LoadKey(context.Background(), st, "")
	if err != nil {
		t.Fatal(err)
	}
	e.publish(func(s *herhttp.Services) {
		s.Subscribers = subscribers.New(st, subscribers.Options{Key: key, PublicURL: "https://status.example.com",
			Log: storetest.Logger(t)})
	})
	return e
}

// csvPost sends a CSV body as role.
func (e *env) csvPost(path string, role gateway.Role, body string) response {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+e.keys[role])
	return e.send(req)
}

func TestSubscribersAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := subscribersEnv(t, st, false)
		if r := e.do("GET", "/api/v1/subscribers", gateway.RoleSupport, ""); r.status != 503 || r.header.Get("Retry-After") == "" {
			t.Errorf("before the service is set: %d %s", r.status, r.body)
		}
		e = withSubscribers(t, e, st)
		const addr = "Ops.Lead@Example.COM"
		tests := []struct {
			name      string
			method    string
			path      string
			role      gateway.Role
			body      string
			want      int
			wantField string
		}{
			{"viewer may not list", "GET", "/api/v1/subscribers", gateway.RoleViewer, "", 403, ""},
			{"support subscribes", "POST", "/api/v1/subscribers", gateway.RoleSupport, `{"email":"` + addr + `","components":["App"]}`, 201, ""},
			{"support may not confirm", "POST", "/api/v1/subscribers", gateway.RoleSupport, `{"email":"b@example.com","confirmed":true,"consent_source":"x"}`, 403, "confirmed"},
			{"admin confirms without consent", "POST", "/api/v1/subscribers", gateway.RoleAdmin, `{"email":"b@example.com","confirmed":true}`, 422, "consent_source"},
			{"admin confirms", "POST", "/api/v1/subscribers", gateway.RoleAdmin, `{"email":"b@example.com","confirmed":true,"consent_source":"CRM export 2026-02"}`, 201, ""},
			{"header injection", "POST", "/api/v1/subscribers", gateway.RoleSupport, `{"email":"x@example.com\r\nBcc: y@example.com"}`, 422, "email"},
			{"ssrf", "POST", "/api/v1/subscribers", gateway.RoleSupport, `{"url":"http://169.254.169.254/latest"}`, 422, "url"},
			{"loopback", "POST", "/api/v1/subscribers", gateway.RoleSupport, `{"url":"http://127.0.0.1:8080/"}`, 422, "url"},
			{"unknown field", "POST", "/api/v1/subscribers", gateway.RoleSupport, `{"mail":"x@example.com"}`, 422, "mail"},
			{"unknown component", "POST", "/api/v1/subscribers", gateway.RoleSupport, `{"email":"c@example.com","components":["Nope"]}`, 422, "components[0]"},
			{"bad status filter", "GET", "/api/v1/subscribers?status=gone", gateway.RoleSupport, "", 422, "status"},
			{"viewer may not import", "POST", "/api/v1/subscribers/import", gateway.RoleSupport, "", 403, ""},
			{"unknown id", "GET", "/api/v1/subscribers/nope", gateway.RoleSupport, "", 404, ""},
			{"viewer may not reconfirm", "POST", "/api/v1/subscribers/nope/reconfirm", gateway.RoleViewer, "", 403, ""},
			{"reconfirm an unknown id", "POST", "/api/v1/subscribers/nope/reconfirm", gateway.RoleSupport, "", 404, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(tt.method, tt.path, tt.role, tt.body)
				if r.status != tt.want {
					t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.status, r.body, tt.want)
				}
				if tt.wantField != "" && !strings.Contains(r.body, `"`+tt.wantField+`"`) {
					t.Errorf("error %s does not name %s", r.body, tt.wantField)
				}
			})
		}

		// A webhook: its secret is shown once, at creation and rotation.
		r := e.do("POST", "/api/v1/subscribers", gateway.RoleSupport, `{"url":"https://93.184.216.34/hook","format":"slack","components":["App"]}`)
		var hook struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
			Format string `json:"format"`
		}
		r.decode(t, &hook)
		if r.status != 201 || !strings.HasPrefix(hook.Secret, "whsec_") || hook.Format != "slack" {
			t.Fatalf("create webhook: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/api/v1/subscribers/"+hook.ID, gateway.RoleSupport, ""); r.status != 200 || strings.Contains(r.body, "secret") {
			t.Errorf("GET shows the secret: %s", r.body)
		}
		if r := e.do("POST", "/api/v1/subscribers/"+hook.ID+"/rotate-secret", gateway.RoleSupport, ""); r.status != 403 {
			t.Errorf("support rotated a secret: %d", r.status)
		}
		r = e.do("POST", "/api/v1/subscribers/"+hook.ID+"/rotate-secret", gateway.RoleAdmin, "")
		if r.status != 200 || !strings.Contains(r.body, `"secret":"whsec_`) || strings.Contains(r.body, hook.Secret) {
			t.Errorf("rotate: %d %s", r.status, r.body)
		}

		// List, search, page.
		var page struct {
			Data []struct {
				ID, Address, Status string
			} `json:"data"`
			NextCursor string `json:"next_cursor"`
		}
		e.do("GET", "/api/v1/subscribers?q=ops.lead&limit=5", gateway.RoleSupport, "").decode(t, &page)
		if len(page.Data) != 1 || page.Data[0].Address != "Ops.Lead@example.com" || page.Data[0].Status != "pending" {
			t.Fatalf("search: %+v", page)
		}
		id := page.Data[0].ID
		e.do("GET", "/api/v1/subscribers?limit=2", gateway.RoleSupport, "").decode(t, &page)
		if len(page.Data) != 2 || page.NextCursor == "" {
			t.Fatalf("first page: %+v", page)
		}
		e.do("GET", "/api/v1/subscribers?limit=2&cursor="+page.NextCursor, gateway.RoleSupport, "").decode(t, &page)
		if len(page.Data) != 1 || page.NextCursor != "" {
			t.Errorf("last page: %+v", page)
		}

		// Update, then erase.
		if r := e.do("PATCH", "/api/v1/subscribers/"+id, gateway.RoleSupport, `{"all":true}`); r.status != 200 || !strings.Contains(r.body, `"all_components":true`) {
			t.Errorf("PATCH: %d %s", r.status, r.body)
		}
		if r := e.do("DELETE", "/api/v1/subscribers/"+id, gateway.RoleSupport, ""); r.status != 204 {
			t.Fatalf("DELETE: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/api/v1/subscribers/"+id, gateway.RoleSupport, ""); r.status != 404 {
			t.Errorf("GET after erasure: %d", r.status)
		}
		audit := e.do("GET", "/api/v1/audit?limit=1000", gateway.RoleAdmin, "")
		if !strings.Contains(audit.body, `"subscriber.erase"`) || strings.Contains(strings.ToLower(audit.body), "ops.lead") {
			t.Errorf("audit log: erase missing, or the address kept: %s", audit.body)
		}
	})
}

func TestSubscribersImportExportAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := subscribersEnv(t, st, true)
		var b strings.Builder
		b.WriteString("email,components,confirmed\n")
		for i := range 1200 {
			fmt.Fprintf(&b, "user%d@example.com,App,true\n", i)
		}
		b.WriteString("not an address,App,true\n")
		body := b.String()
		if r := e.csvPost("/api/v1/subscribers/import?consent_source=legacy", gateway.RoleSupport, body); r.status != 403 {
			t.Errorf("support imported: %d", r.status)
		}
		var rep subscribers.ImportReport
		r := e.csvPost("/api/v1/subscribers/import?consent_source=legacy", gateway.RoleAdmin, body)
		r.decode(t, &rep)
		if r.status != 200 || rep.Added != 1200 || rep.Invalid != 1 || rep.Errors[0].Line != 1202 || rep.Errors[0].Field != "email" {
			t.Fatalf("import: %d %s", r.status, r.body)
		}
		e.csvPost("/api/v1/subscribers/import?consent_source=legacy", gateway.RoleAdmin, body).decode(t, &rep)
		if rep.Added != 0 || rep.Existing != 1200 {
			t.Errorf("second import: %+v", rep)
		}
		if r := e.csvPost("/api/v1/subscribers/import", gateway.RoleAdmin, "mail,components\n"); r.status != 422 || !strings.Contains(r.body, "header") {
			t.Errorf("bad header: %d %s", r.status, r.body)
		}
		if r := e.csvPost("/api/v1/subscribers/import?confirmed=maybe", gateway.RoleAdmin, body); r.status != 422 {
			t.Errorf("bad confirmed: %d %s", r.status, r.body)
		}

		r = e.do("GET", "/api/v1/subscribers/export", gateway.RoleSupport, "")
		lines := strings.Split(strings.TrimSpace(r.body), "\n")
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") || len(lines) != 1201 ||
			!strings.HasPrefix(lines[0], "email,components,confirmed") || !strings.HasPrefix(lines[1], "user") {
			t.Fatalf("export: %d %s, %d lines", r.status, r.header.Get("Content-Type"), len(lines))
		}
		if r := e.do("GET", "/api/v1/subscribers/export", gateway.RoleViewer, ""); r.status != 403 {
			t.Errorf("viewer exported: %d", r.status)
		}
	})
}

// A webhook's URL is often its only secret (a Slack hook's path): keys
// that are not an admin's see it as scheme://host/… wherever the
// subscribers API shows it, as deliveries show it; admins see it whole.
func TestSubscribersWebhookURLsRedacted(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := subscribersEnv(t, st, true)
		const hookURL = "https://93.184.216.34/services/T0/B0/s3cr3t"
		r := e.do("POST", "/api/v1/subscribers", gateway.RoleAdmin, `{"url":"`+hookURL+`","format":"slack","components":["App"]}`)
		var hook struct{ ID string }
		r.decode(t, &hook)
		if r.status != 201 {
			t.Fatalf("create webhook: %d %s", r.status, r.body)
		}
		for _, tc := range []struct{ name, method, path, body string }{
			{"list", "GET", "/api/v1/subscribers", ""},
			{"get", "GET", "/api/v1/subscribers/" + hook.ID, ""},
			{"export", "GET", "/api/v1/subscribers/export", ""},
			{"update", "PATCH", "/api/v1/subscribers/" + hook.ID, `{"all":true}`},
		} {
			if r := e.do(tc.method, tc.path, gateway.RoleSupport, tc.body); r.status != 200 || strings.Contains(r.body, "s3cr3t") ||
				!strings.Contains(r.body, "https://93.184.216.34/…") {
				t.Errorf("%s as support: %d %s, want the URL as https://93.184.216.34/…", tc.name, r.status, r.body)
			}
			if r := e.do(tc.method, tc.path, gateway.RoleAdmin, tc.body); r.status != 200 || !strings.Contains(r.body, hookURL) {
				t.Errorf("%s as admin: %d %s, want the whole URL", tc.name, r.status, r.body)
			}
		}
		// Nor can a search spell the URL out, one guess at a time.
		if r := e.do("GET", "/api/v1/subscribers?q=s3cr3t", gateway.RoleSupport, ""); r.status != 200 || strings.Contains(r.body, hook.ID) {
			t.Errorf("support's search in webhook URLs found the hook: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/api/v1/subscribers?q=s3cr3t", gateway.RoleAdmin, ""); r.status != 200 || !strings.Contains(r.body, hook.ID) {
			t.Errorf("admin's search did not find the hook: %d %s", r.status, r.body)
		}
	})
}
