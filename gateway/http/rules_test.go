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

// Rules made through the API route the next alert at once; alerts list
// by component and page with a cursor.
func TestRulesAPIAndRouting(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		admin := gateway.RoleAdmin
		for _, name := range []string{"Space Module", "Move Module"} {
			if r := e.do("POST", "/api/v1/components", admin, `{"name":"`+name+`"}`); r.status != 201 {
				t.Fatalf("create component = %d %s", r.status, r.body)
			}
		}
		_, token := e.source("scripts", "generic", 0)
		send := func(body string) string {
			t.Helper()
			r := e.post("/ingest/scripts", "Bearer "+token, "application/json", strings.NewReader(body))
			if r.status != 202 {
				t.Fatalf("ingest = %d %s", r.status, r.body)
			}
			return r.body
		}
		// Routed nowhere yet: the cache holds no rules.
		if got := send(`{"fingerprint":"a","status":"firing","labels":{"service":"space"}}`); !strings.Contains(got, `"unrouted":1`) {
			t.Errorf("before any rule: %s, want unrouted", got)
		}

		r := e.do("POST", "/api/v1/rules", admin, `{"name":"space","matchers":["service=~sp.*",{"name":"env","op":"!=","value":"dev"}],
			"components":["Space Module"],"severity_status":{"warning":"partial_outage"}}`)
		if r.status != 201 {
			t.Fatalf("create rule = %d %s", r.status, r.body)
		}
		var rule struct {
			ID       string `json:"id"`
			Position int    `json:"position"`
		}
		r.decode(t, &rule)
		if r := e.do("POST", "/api/v1/rules", admin, `{"matchers":[],"components":["Move Module"]}`); r.status != 201 {
			t.Fatalf("create catch-all rule = %d %s", r.status, r.body)
		}
		errorCases := []struct{ name, method, path, body, field string }{
			{"bad matcher", "POST", "/api/v1/rules", `{"matchers":["service=~("],"components":["Space Module"]}`, "matchers[0]"},
			{"unknown component", "POST", "/api/v1/rules", `{"components":["Space Module","Nope"]}`, "components[1]"},
			{"no components", "POST", "/api/v1/rules", `{"matchers":[]}`, "components"},
			{"bad severity", "POST", "/api/v1/rules", `{"components":["Space Module"],"severity_status":{"fatal":"major_outage"}}`, "severity_status.fatal"},
			{"bad status", "PATCH", "/api/v1/rules/" + rule.ID, `{"severity_status":{"critical":"down"}}`, "severity_status.critical"},
		}
		for _, tt := range errorCases {
			if r := e.do(tt.method, tt.path, admin, tt.body); r.status != 422 || !strings.Contains(r.body, `"`+tt.field+`":`) {
				t.Errorf("%s = %d %s, want 422 naming %s", tt.name, r.status, r.body, tt.field)
			}
		}

		send(`{"alerts":[{"fingerprint":"a","status":"firing","severity":"warning","labels":{"service":"space"}},
			{"fingerprint":"b","status":"firing","labels":{"service":"space","env":"dev"}},
			{"fingerprint":"c","status":"firing","labels":{"service":"mail"}}]}`)
		space := e.alerts("component=Space%20Module")
		if len(space) != 1 || space[0]["fingerprint"] != "a" || !strings.Contains(jsonText(space[0]["components"]), `"status":"partial_outage"`) {
			t.Errorf("alerts of Space Module = %v, want a as partial_outage", space)
		}
		if move := e.alerts("component=Move%20Module"); len(move) != 2 {
			t.Errorf("alerts of Move Module = %d, want b and c (the catch-all: first match wins)", len(move))
		}

		// Pages of one alert, newest first, until the cursor runs out.
		var seen []string
		for cursor := ""; ; {
			r := e.do("GET", "/api/v1/alerts?limit=1&cursor="+cursor, gateway.RoleViewer, "")
			var page struct {
				Data       []map[string]any `json:"data"`
				NextCursor string           `json:"next_cursor"`
			}
			r.decode(t, &page)
			for _, a := range page.Data {
				seen = append(seen, a["fingerprint"].(string))
			}
			if page.NextCursor == "" || len(seen) > 5 {
				break
			}
			cursor = page.NextCursor
		}
		if strings.Join(seen, ",") != "c,b,a" {
			t.Errorf("paged = %v, want c,b,a", seen)
		}
		for _, q := range []string{"status=open", "source=nope", "component=nope", "cursor=x", "limit=0"} {
			if r := e.do("GET", "/api/v1/alerts?"+q, gateway.RoleViewer, ""); r.status != 422 {
				t.Errorf("GET /alerts?%s = %d, want 422", q, r.status)
			}
		}

		if r := e.do("PATCH", "/api/v1/rules/"+rule.ID, admin, `{"position":5}`); r.status != 200 || !strings.Contains(r.body, `"position":5`) {
			t.Errorf("PATCH rule = %d %s", r.status, r.body)
		}
		if r := e.do("DELETE", "/api/v1/rules/"+rule.ID, admin, ""); r.status != 204 {
			t.Errorf("DELETE rule = %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/api/v1/rules", gateway.RoleViewer, ""); r.status != 200 || strings.Contains(r.body, rule.ID) {
			t.Errorf("rules after delete = %d %s", r.status, r.body)
		}
		r = e.do("GET", "/api/v1/audit", admin, "")
		for _, action := range []string{"rule.create", "rule.update", "rule.delete"} {
			if !strings.Contains(r.body, `"action":"`+action+`"`) {
				t.Errorf("audit log lacks %s", action)
			}
		}
	})
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
