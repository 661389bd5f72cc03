package console

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestProbesScreen: admins list, create and delete probes; bad input is
// refused naming the field; other roles do not see the screen.
func TestProbesScreen(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			ctx := context.Background()
			admin, support := e.signIn(gateway.RoleAdmin), e.signIn(gateway.RoleSupport)
			const page = "/console/probes"
			if err := e.st.CreateComponent(ctx, &gateway.Component{Name: "DNS", Position: -1}); err != nil {
				t.Fatal(err)
			}
			dns := e.component(t, "DNS")
			if res := support.get(page); res.status != http.StatusForbidden && res.status != http.StatusNotFound {
				t.Errorf("support sees the probes: %d", res.status)
			}
			admin.get(page).wantContains(t, "No probes yet.")
			res := admin.submit(page, page, url.Values{"name": {"dns-main"}, "kind": {"dns"}, "target": {"example.com"},
				"record": {"A"}, "resolvers": {"127.0.0.1:53, 127.0.0.2:53"}, "expect": {"192.0.2.10"}, "component": {dns.ID}})
			res.wantStatus(t, http.StatusOK)
			res.wantContains(t, "Probe dns-main created")
			e.wantAudit(t, "probe.create", admin.name)
			p, err := e.st.Probe(ctx, "dns-main")
			if err != nil {
				t.Fatal(err)
			}
			if p.ComponentID != dns.ID || len(p.Resolvers) != 2 || p.Interval.String() != "30s" {
				t.Errorf("created %+v", p)
			}
			admin.get(page).wantContains(t, `id="probe-dns-main"`)

			res = admin.submit(page, page, url.Values{"name": {"bad"}, "kind": {"dns"}, "target": {"example.com"},
				"record": {"AAAA"}, "expect": {"192.0.2.10"}, "interval": {"200ms"}})
			res.wantContains(t, "expect[0]")
			res.wantContains(t, "interval: must be at least 1s")

			admin.submit(page, page+"/"+p.ID+"/delete", url.Values{}).wantStatus(t, http.StatusOK)
			if _, err := e.st.Probe(ctx, "dns-main"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
				t.Errorf("after delete: %v", err)
			}
		})
	}
}
