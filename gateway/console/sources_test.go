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

var tokenField = regexp.MustCompile(`id="token" value="(hsrc_[^"]+)"`)

func TestSourcesScreen(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d, withOptions(func(o *Options) { o.PublicURL = "https://herald.example.com/" }))
			ctx := context.Background()
			viewer, support, admin := e.signIn(gateway.RoleViewer), e.signIn(gateway.RoleSupport), e.signIn(gateway.RoleAdmin)
			const list = "/console/sources"

			for _, c := range []*client{viewer, support} {
				c.get(list).wantStatus(t, http.StatusForbidden)
				c.submit("/console", list, url.Values{"name": {"x"}, "kind": {"generic"}}).wantStatus(t, http.StatusForbidden)
			}
			admin.get(list).wantContains(t, "No sources yet")
			admin.post(list, url.Values{"name": {"prom"}, "kind": {"alertmanager"}}).wantStatus(t, http.StatusForbidden) // no token

			res := admin.submit(list, list, url.Values{"name": {"prom"}, "kind": {"alertmanager"}})
			res.wantStatus(t, http.StatusCreated)
			m := tokenField.FindStringSubmatch(res.body)
			if m == nil {
				t.Fatalf("no token shown:\n%s", res.body)
			}
			first := m[1]
			res.wantContains(t, "shown <strong>only now</strong>")
			res.wantContains(t, `data-copy="token"`)
			res.wantContains(t, "https://herald.example.com/ingest/prom")
			e.wantAudit(t, "source.create", admin.name)
			src, err := e.st.SourceByToken(ctx, first)
			if err != nil || src.Name != "prom" {
				t.Fatalf("the shown token is not the source's: %v", err)
			}

			pd := admin.submit(list, list, url.Values{"name": {"pd"}, "kind": {"pagerduty"}, "rate_limit": {"5"}})
			pd.wantStatus(t, http.StatusCreated)
			pd.wantContains(t, "https://herald.example.com/v2/enqueue")
			pd.wantContains(t, "routing_key")

			for _, tc := range []struct{ name, form, field string }{
				{"bad name", "name=Prom Server&kind=generic", "name"},
				{"bad kind", "name=x&kind=nagios", "kind"},
				{"bad rate", "name=x&kind=generic&rate_limit=-1", "rate_limit"},
				{"taken name", "name=prom&kind=generic", ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					form, _ := url.ParseQuery(tc.form)
					res := admin.submit(list, list, form)
					if res.status != http.StatusUnprocessableEntity && res.status != http.StatusConflict {
						t.Errorf("status %d, want 422 or 409", res.status)
					}
				})
			}

			page := admin.get(list)
			page.wantStatus(t, http.StatusOK)
			for _, w := range []string{"https://herald.example.com/ingest/prom", "https://herald.example.com/v2/enqueue", "none yet", "0 (0 firing)", src.TokenPrefix} {
				page.wantContains(t, w)
			}
			if strings.Contains(page.body, first) {
				t.Error("the list shows the token again")
			}

			rotate := "/console/sources/" + src.ID + "/rotate"
			support.get(rotate).wantStatus(t, http.StatusForbidden)
			confirm := admin.get(rotate)
			confirm.wantContains(t, "stops working <strong>at once</strong>")
			res = admin.submit(rotate, rotate, nil)
			res.wantStatus(t, http.StatusOK)
			m = tokenField.FindStringSubmatch(res.body)
			if m == nil || m[1] == first {
				t.Fatalf("no new token shown:\n%s", res.body)
			}
			res.wantContains(t, "The old token has stopped working.")
			if _, err := e.st.SourceByToken(ctx, first); gateway.ErrorCode(err) != gateway.EUNAUTHORIZED {
				t.Errorf("old token after rotation: %v", err)
			}
			e.wantAudit(t, "source.rotate_token", admin.name)
			if again := admin.get(list); strings.Contains(again.body, m[1]) {
				t.Error("the list shows the new token")
			}

			// A source of the config file keeps the file's token.
			storetest.Exec(t, e.st, "UPDATE sources SET origin = 'config' WHERE name = 'pd'")
			pdSrc, err := e.st.Source(ctx, "pd")
			if err != nil {
				t.Fatal(err)
			}
			admin.submit(list, "/console/sources/"+pdSrc.ID+"/rotate", nil).wantStatus(t, http.StatusConflict)
		})
	}
}
