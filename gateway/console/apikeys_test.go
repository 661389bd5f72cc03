package console

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

var keyField = regexp.MustCompile(`id="key" value="(hrld_[^"]+)"`)

// Admins list, create (the key shown once) and revoke keys; the forms need
// the CSRF token; a revoked key stops at once, its console sessions too.
func TestAPIKeysScreen(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			ctx := context.Background()
			viewer, support, admin := e.signIn(gateway.RoleViewer), e.signIn(gateway.RoleSupport), e.signIn(gateway.RoleAdmin)
			const list = "/console/apikeys"
			for _, c := range []*client{viewer, support} {
				c.get(list).wantStatus(t, http.StatusForbidden)
				c.submit("/console", list, url.Values{"name": {"x"}, "role": {"admin"}}).wantStatus(t, http.StatusForbidden)
			}
			admin.get(list).wantContains(t, "No API keys yet")
			admin.post(list, url.Values{"name": {"ci"}, "role": {"support"}}).wantStatus(t, http.StatusForbidden) // no CSRF token

			res := admin.submit(list, list, url.Values{"name": {"ci"}, "role": {"support"}, "expires": {"2099-01-01"}})
			res.wantStatus(t, http.StatusCreated)
			m := keyField.FindStringSubmatch(res.body)
			if m == nil {
				t.Fatalf("no key shown:\n%s", res.body)
			}
			secret := m[1]
			res.wantContains(t, "shown <strong>only now</strong>")
			e.wantAudit(t, "api_key.create", admin.name)
			k, err := e.st.APIKeyBySecret(ctx, secret)
			if err != nil || k.Name != "ci" || k.Role != gateway.RoleSupport || k.ExpiresAt.Year() != 2099 {
				t.Fatalf("the shown key = %+v, %v", k, err)
			}
			for _, form := range []string{"name=x&role=root", "name=&role=viewer", "name=x&role=viewer&expires=soon", "name=ci&role=viewer"} {
				v, _ := url.ParseQuery(form)
				if r := admin.submit(list, list, v); r.status != http.StatusUnprocessableEntity && r.status != http.StatusConflict {
					t.Errorf("create %s = %d, want 422 or 409", form, r.status)
				}
			}

			// The key signs in to the console; revoking it ends that session.
			bot := e.newClient()
			bot.submit("/console/login", "/console/login", url.Values{"api_key": {secret}}).wantStatus(t, http.StatusOK)
			page := admin.get(list)
			for _, w := range []string{"ci", "support", ">" + k.Prefix + "<", "live", "revoke-" + k.ID} {
				page.wantContains(t, w)
			}
			if strings.Contains(page.body, secret) || strings.Contains(page.body, secret[:9]) {
				t.Error("the list shows more of the key than its prefix")
			}
			admin.post(list+"/"+k.ID+"/revoke", nil).wantStatus(t, http.StatusForbidden) // no CSRF token
			if _, err := e.st.APIKeyBySecret(ctx, secret); err != nil {
				t.Fatal("a revoke without the form's token went through")
			}
			res = admin.submit(list, list+"/"+k.ID+"/revoke", nil)
			res.wantStatus(t, http.StatusOK)
			res.wantContains(t, "Key revoked")
			res.wantContains(t, "revoked")
			e.wantAudit(t, "api_key.revoke", admin.name)
			if _, err := e.st.APIKeyBySecret(ctx, secret); gateway.ErrorCode(err) != gateway.EUNAUTHORIZED {
				t.Errorf("the revoked key still works: %v", err)
			}
			if r := bot.get("/console"); r.url.Path != "/console/login" {
				t.Errorf("the revoked key's console session lives on: %s", r.url)
			}
		})
	}
}
