package http_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// withKey sends a request with a given secret.
func (e *env) withKey(method, path, secret, body string) response {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	return e.send(req)
}

// The key lifecycle through the API, on two replicas over one database: a
// key created on one works on the other, its secret appears in the
// creation's answer only, and a revoke on one holds on the other at the
// next request.
func TestAPIKeysAPI(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			url := storetest.URL(t, d)
			one := newEnv(t, storetest.OpenURL(t, url), herhttp.Options{})
			srv := herhttp.New(herhttp.Options{Log: storetest.Logger(t)})
			srv.Publish(herhttp.Services{Store: storetest.OpenURL(t, url)})
			ts := httptest.NewServer(srv.Handler())
			t.Cleanup(ts.Close)
			two := &env{t: t, url: ts.URL, srv: srv, keys: one.keys}

			for _, role := range []gateway.Role{gateway.RoleSupport, gateway.RoleViewer} {
				if r := one.do("GET", "/api/v1/apikeys", role, ""); r.status != 403 {
					t.Errorf("%s lists keys: %d", role, r.status)
				}
				if r := one.do("POST", "/api/v1/apikeys", role, `{"name":"x","role":"admin"}`); r.status != 403 {
					t.Errorf("%s creates a key: %d", role, r.status)
				}
			}
			for body, field := range map[string]string{
				`{"name":"ci","role":"root"}`:                                       "role",
				`{"name":"","role":"viewer"}`:                                       "name",
				`{"name":"ci","role":"viewer","expires_at":"tomorrow"}`:             "expires_at",
				`{"name":"ci","role":"viewer","expires_at":"2001-01-01T00:00:00Z"}`: "expires_at",
			} {
				if r := one.do("POST", "/api/v1/apikeys", gateway.RoleAdmin, body); r.status != 422 || !strings.Contains(r.body, `"`+field+`"`) {
					t.Errorf("create %s = %d %s, want 422 naming %s", body, r.status, r.body, field)
				}
			}

			expires := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
			r := one.do("POST", "/api/v1/apikeys", gateway.RoleAdmin, `{"name":"ci","role":"support","expires_at":"`+expires+`"}`)
			var created struct {
				ID, Name, Role, Prefix, Key string
				ExpiresAt                   time.Time `json:"expires_at"`
			}
			if err := json.Unmarshal([]byte(r.body), &created); err != nil || r.status != 201 || !strings.HasPrefix(created.Key, "hrld_") ||
				created.Prefix != created.Key[5:9] || created.ExpiresAt.IsZero() {
				t.Fatalf("create = %d %s", r.status, r.body)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Error("the answer with the key may be cached")
			}
			if r := two.withKey("GET", "/api/v1/incidents", created.Key, ""); r.status != 200 {
				t.Errorf("the new key on the other replica: %d %s", r.status, r.body)
			}
			// Its use is recorded (off the request's path: poll for it).
			deadline := time.Now().Add(30 * time.Second) // a hang guard, not a performance bound
			for {
				var got struct {
					Data []struct {
						ID         string    `json:"id"`
						LastUsedAt time.Time `json:"last_used_at"`
					} `json:"data"`
				}
				_ = json.Unmarshal([]byte(one.do("GET", "/api/v1/apikeys", gateway.RoleAdmin, "").body), &got)
				used := false
				for _, k := range got.Data {
					used = used || k.ID == created.ID && !k.LastUsedAt.IsZero()
				}
				if used {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the key's last use was never recorded")
				}
				time.Sleep(20 * time.Millisecond)
			}
			if r := one.do("POST", "/api/v1/apikeys", gateway.RoleAdmin, `{"name":"ci","role":"viewer"}`); r.status != 409 {
				t.Errorf("a second live key named ci: %d", r.status)
			}

			list := one.do("GET", "/api/v1/apikeys", gateway.RoleAdmin, "")
			var keys struct {
				Data []map[string]any `json:"data"`
			}
			if err := json.Unmarshal([]byte(list.body), &keys); err != nil || list.status != 200 || len(keys.Data) != 4 {
				t.Fatalf("list = %d %s", list.status, list.body)
			}
			if strings.Contains(list.body, created.Key) || strings.Contains(list.body, created.Key[:9]) {
				t.Error("the list shows more of the key than its prefix")
			}
			for _, k := range keys.Data {
				for _, f := range []string{"id", "name", "role", "prefix", "created_at"} {
					if _, ok := k[f]; !ok {
						t.Errorf("listed key lacks %s: %v", f, k)
					}
				}
				if p, _ := k["prefix"].(string); len(p) > 4 {
					t.Errorf("prefix %q is longer than 4 characters", p)
				}
			}

			// Revoke on one replica; the other refuses the key at once.
			if r := one.do("DELETE", "/api/v1/apikeys/"+created.ID, gateway.RoleAdmin, ""); r.status != 204 {
				t.Fatalf("revoke = %d %s", r.status, r.body)
			}
			if r := two.withKey("GET", "/api/v1/incidents", created.Key, ""); r.status != 401 {
				t.Errorf("the revoked key on the other replica: %d, want 401", r.status)
			}
			if r := one.do("DELETE", "/api/v1/apikeys/"+created.ID, gateway.RoleAdmin, ""); r.status != 404 {
				t.Errorf("revoking twice = %d, want 404", r.status)
			}
			list = two.do("GET", "/api/v1/apikeys", gateway.RoleAdmin, "")
			if !strings.Contains(list.body, `"revoked_at"`) {
				t.Errorf("the list does not show the revoke: %s", list.body)
			}
			audit := one.do("GET", "/api/v1/audit?action=api_key.", gateway.RoleAdmin, "")
			if !strings.Contains(audit.body, "api_key.create") || !strings.Contains(audit.body, "api_key.revoke") || strings.Contains(audit.body, created.Key) {
				t.Errorf("audit = %s", audit.body)
			}
		})
	}
}
