package console

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func TestAuditScreen(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			ctx := context.Background()
			support, admin := e.signIn(gateway.RoleSupport), e.signIn(gateway.RoleAdmin)
			support.get("/console/audit").wantStatus(t, http.StatusForbidden)
			e.signIn(gateway.RoleViewer).get("/console/audit").wantStatus(t, http.StatusForbidden)

			// 120 entries by two people: enough for three pages.
			people := []gateway.Principal{{Kind: "user", Name: "Ann Admin"}, {Kind: "api_key", Name: "deploy-bot"}}
			for i := range 120 {
				action := "component.update"
				if i%3 == 0 {
					action = "subscriber.erase"
				}
				if err := e.st.Audit(ctx, people[i%2], action, "thing", fmt.Sprintf("t%03d", i), map[string]any{"n": i}); err != nil {
					t.Fatal(err)
				}
			}

			first := admin.get("/console/audit")
			first.wantStatus(t, http.StatusOK)
			// Newest first: t119 leads, t070 is the page's last.
			if i, j := strings.Index(first.body, "t119"), strings.Index(first.body, "t070"); i < 0 || j < i || strings.Contains(first.body, "t069") {
				t.Fatalf("first page is not t119…t070:\n%s", first.body)
			}
			first.wantContains(t, "deploy-bot <small>(api_key)</small>")
			second := admin.get(strings.ReplaceAll(between(first.body, `id="older" href="`, `"`), "&amp;", "&"))
			if !strings.Contains(second.body, "t069") || !strings.Contains(second.body, "t020") || strings.Contains(second.body, "t070") {
				t.Fatalf("second page:\n%s", second.body)
			}

			for _, tc := range []struct {
				name, query string
				want, not   []string
			}{
				// i%2==1 and i%3==0: 117, 111, …, 3.
				{"by actor and action", "actor=DEPLOY-BOT&action=subscriber.erase", []string{"t117", "t003"}, []string{"t118", "t116", "t114"}},
				{"by action prefix", "action=subscriber.", []string{"t117", "t114"}, []string{"t118", "t119"}},
				{"nothing", "actor=nobody", []string{"No entry matches"}, []string{"<code>t1"}}, // not a bare "t1", which a random CSRF token may hold
			} {
				t.Run(tc.name, func(t *testing.T) {
					res := admin.get("/console/audit?" + tc.query)
					res.wantStatus(t, http.StatusOK)
					for _, w := range tc.want {
						res.wantContains(t, w)
					}
					for _, n := range tc.not {
						if strings.Contains(res.body, n) {
							t.Errorf("lists %s", n)
						}
					}
				})
			}
			admin.get("/console/audit?before=x").wantStatus(t, http.StatusUnprocessableEntity)
		})
	}
}

// between returns the text of s after the first start up to end.
func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}
