package http_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestComponentDependsOn: depends_on by name through the API, shown by
// id; a cycle is a 422 that names it.
func TestComponentDependsOn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		admin := gateway.RoleAdmin
		dns := e.do("POST", "/api/v1/components", admin, `{"name":"DNS"}`)
		if dns.status != 201 {
			t.Fatalf("create DNS: %d %s", dns.status, dns.body)
		}
		space := e.do("POST", "/api/v1/components", admin, `{"name":"Space Module","depends_on":["DNS"]}`)
		if space.status != 201 {
			t.Fatalf("create Space Module: %d %s", space.status, space.body)
		}
		var got struct {
			ID        string   `json:"id"`
			DependsOn []string `json:"depends_on"`
		}
		var dnsC struct{ ID string }
		_ = json.Unmarshal([]byte(dns.body), &dnsC)
		_ = json.Unmarshal([]byte(space.body), &got)
		if len(got.DependsOn) != 1 || got.DependsOn[0] != dnsC.ID {
			t.Errorf("depends_on = %v, want [%s]", got.DependsOn, dnsC.ID)
		}
		r := e.do("PATCH", "/api/v1/components/DNS", admin, `{"depends_on":["Space Module"]}`)
		if r.status != 422 || !strings.Contains(r.body, "DNS → Space Module → DNS") {
			t.Errorf("cycle: %d %s, want 422 naming DNS → Space Module → DNS", r.status, r.body)
		}
		r = e.do("POST", "/api/v1/components", admin, `{"name":"App","depends_on":["Nope"]}`)
		if r.status != 422 || !strings.Contains(r.body, "depends_on[0]") {
			t.Errorf("unknown upstream: %d %s, want 422 naming depends_on[0]", r.status, r.body)
		}
		if r := e.do("GET", "/api/v1/components/App", admin, ""); r.status != 404 {
			t.Errorf("a refused create left the component: %d", r.status)
		}
		r = e.do("PATCH", "/api/v1/components/Space%20Module", admin, `{"depends_on":[]}`)
		if r.status != 200 || !strings.Contains(r.body, `"depends_on":[]`) {
			t.Errorf("clear: %d %s", r.status, r.body)
		}
	})
}

// TestProbesAPI: admin-only CRUD, results, and bad input refused with
// the key named.
func TestProbesAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		admin := gateway.RoleAdmin
		if r := e.do("POST", "/api/v1/components", admin, `{"name":"DNS"}`); r.status != 201 {
			t.Fatal(r.body)
		}
		body := `{"name":"dns-main","kind":"dns","component":"DNS","target":"example.com","record":"A",
			"resolvers":["127.0.0.1:53"],"expect":["192.0.2.10"],"interval":"10s"}`
		r := e.do("POST", "/api/v1/probes", admin, body)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		for _, want := range []string{`"interval":"10s"`, `"timeout":"5s"`, `"failures":2`, `"severity":"critical"`, `"name":"DNS"`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("create answer %s lacks %s", r.body, want)
			}
		}
		if r := e.do("GET", "/api/v1/probes", gateway.RoleSupport, ""); r.status != 403 {
			t.Errorf("support lists probes: %d, want 403", r.status)
		}
		if r := e.do("GET", "/api/v1/probes", gateway.RoleViewer, ""); r.status != 403 {
			t.Errorf("viewer lists probes: %d, want 403", r.status)
		}
		if r := e.do("GET", "/api/v1/probes", admin, ""); r.status != 200 || !strings.Contains(r.body, "dns-main") {
			t.Errorf("list: %d %s", r.status, r.body)
		}
		if r := e.do("PATCH", "/api/v1/probes/dns-main", admin, `{"interval":"1m"}`); r.status != 200 || !strings.Contains(r.body, `"interval":"1m0s"`) {
			t.Errorf("patch: %d %s", r.status, r.body)
		}
		r = e.do("PATCH", "/api/v1/probes/dns-main", admin, `{"kind":"tcp","target":"db.internal:5432"}`)
		if r.status != 200 || strings.Contains(r.body, `"record"`) || strings.Contains(r.body, `"expect"`) {
			t.Errorf("kind change: %d %s, want the dns keys gone", r.status, r.body)
		}
		if r := e.do("GET", "/api/v1/probes/dns-main/results", admin, ""); r.status != 200 || !strings.Contains(r.body, `"data":[]`) {
			t.Errorf("results: %d %s", r.status, r.body)
		}

		bad := []struct{ body, key string }{
			{`{"name":"x","kind":"icmp","target":"example.com"}`, `"kind"`},
			{`{"name":"x","kind":"http"}`, `"target"`},
			{`{"name":"x","kind":"tcp","target":"db:5432","component":"Nope"}`, `"component"`},
			{`{"name":"x","kind":"tcp","target":"db:5432","interval":"500ms"}`, `"interval"`},
			{`{"name":"x","kind":"dns","target":"example.com","record":"A","expect":["2001:db8::1"]}`, `"expect[0]"`},
			{`{"name":"x","kind":"dns","target":"example.com","record":"MX","expect":["192.0.2.1"]}`, `"expect[0]"`},
			{`{"name":"dns-main","kind":"tcp","target":"db:5432"}`, `"name"`},
		}
		for _, b := range bad {
			r := e.do("POST", "/api/v1/probes", admin, b.body)
			if r.status != 422 && r.status != 409 || !strings.Contains(r.body, b.key) {
				t.Errorf("POST %s = %d %s, want 422 naming %s", b.body, r.status, r.body, b.key)
			}
		}
		if r := e.do("DELETE", "/api/v1/probes/dns-main", admin, ""); r.status != 204 {
			t.Errorf("delete: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/api/v1/rules", admin, ""); strings.Contains(r.body, "probe: dns-main") {
			t.Errorf("the probe's rule outlived it: %s", r.body)
		}
	})
}
