package http_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func TestAdminAPIAuthentication(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		tests := []struct {
			name   string
			method string
			path   string
			role   gateway.Role
			auth   string // overrides the role's key when set
			body   string
			want   int
		}{
			{"no key", "GET", "/api/v1/components", "", "", "", 401},
			{"wrong key", "GET", "/api/v1/components", "", "Bearer hrld_wrong", "", 401},
			{"basic is not an API key", "GET", "/api/v1/components", "", "Basic YWRtaW46YWRtaW4=", "", 401},
			{"viewer reads", "GET", "/api/v1/components", gateway.RoleViewer, "", "", 200},
			{"viewer may not create", "POST", "/api/v1/components", gateway.RoleViewer, "", `{"name":"A"}`, 403},
			{"support may not create components", "POST", "/api/v1/components", gateway.RoleSupport, "", `{"name":"A"}`, 403},
			{"admin creates", "POST", "/api/v1/components", gateway.RoleAdmin, "", `{"name":"A"}`, 201},
			{"viewer may not read the audit log", "GET", "/api/v1/audit", gateway.RoleViewer, "", "", 403},
			{"admin reads the audit log", "GET", "/api/v1/audit", gateway.RoleAdmin, "", "", 200},
			{"groups need a key too", "DELETE", "/api/v1/component-groups/x", "", "", "", 401},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				req, _ := http.NewRequest(tt.method, e.url+tt.path, strings.NewReader(tt.body))
				req.Header.Set("Content-Type", "application/json")
				switch {
				case tt.auth != "":
					req.Header.Set("Authorization", tt.auth)
				case tt.role != "":
					req.Header.Set("Authorization", "Bearer "+e.keys[tt.role])
				}
				r := e.send(req)
				if r.status != tt.want {
					t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.status, r.body, tt.want)
				}
				if tt.want == 401 && (r.errorCode() != "unauthorized" || r.header.Get("WWW-Authenticate") == "") {
					t.Errorf("401 body %s, WWW-Authenticate %q", r.body, r.header.Get("WWW-Authenticate"))
				}
				if tt.want == 403 && r.errorCode() != "forbidden" {
					t.Errorf("403 body %s", r.body)
				}
			})
		}
	})
}

func TestComponentsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{APIBodyLimit: 4096})
		admin := gateway.RoleAdmin

		r := e.do("POST", "/api/v1/component-groups", admin, `{"name":"Eptura Workplace Modules"}`)
		if r.status != 201 {
			t.Fatalf("create group = %d %s", r.status, r.body)
		}
		var group struct{ ID, Name string }
		r.decode(t, &group)

		r = e.do("POST", "/api/v1/components", admin, `{"name":"Space Module","description":"Desks and rooms","group":"Eptura Workplace Modules"}`)
		if r.status != 201 {
			t.Fatalf("create component = %d %s", r.status, r.body)
		}
		var comp struct {
			ID      string  `json:"id"`
			Name    string  `json:"name"`
			Status  string  `json:"status"`
			GroupID *string `json:"group_id"`
		}
		r.decode(t, &comp)
		if comp.ID == "" || comp.Status != "operational" || comp.GroupID == nil || *comp.GroupID != group.ID {
			t.Errorf("created component = %+v, want an id, operational, in group %s", comp, group.ID)
		}

		errorCases := []struct {
			name, method, path, body string
			status                   int
			code, field              string
		}{
			{"missing name", "POST", "/api/v1/components", `{"description":"x"}`, 422, "unprocessable", "name"},
			{"blank name", "POST", "/api/v1/components", `{"name":"   "}`, 422, "unprocessable", "name"},
			{"name too long", "POST", "/api/v1/components", `{"name":"` + strings.Repeat("x", 101) + `"}`, 422, "unprocessable", "name"},
			{"name with a newline", "POST", "/api/v1/components", `{"name":"a\nBcc: x"}`, 422, "unprocessable", "name"},
			{"wrong type", "POST", "/api/v1/components", `{"name":5}`, 422, "unprocessable", "name"},
			{"unknown field", "POST", "/api/v1/components", `{"nmae":"x"}`, 422, "unprocessable", "nmae"},
			{"negative position", "POST", "/api/v1/components", `{"name":"x","position":-2}`, 422, "unprocessable", "position"},
			{"unknown group", "POST", "/api/v1/components", `{"name":"x","group":"nope"}`, 422, "unprocessable", "group"},
			{"malformed", "POST", "/api/v1/components", `{"name":`, 400, "invalid", ""},
			{"not json", "POST", "/api/v1/components", `name=x`, 400, "invalid", ""},
			{"two values", "POST", "/api/v1/components", `{"name":"x"}{}`, 400, "invalid", ""},
			{"duplicate", "POST", "/api/v1/components", `{"name":"Space Module"}`, 409, "conflict", "name"},
			{"too large", "POST", "/api/v1/components", `{"name":"x","description":"` + strings.Repeat("y", 5000) + `"}`, 413, "too_large", ""},
			{"unknown component", "GET", "/api/v1/components/nope", "", 404, "not_found", ""},
			{"unknown route", "GET", "/api/v1/nothing-here", "", 404, "not_found", ""},
		}
		for _, tt := range errorCases {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(tt.method, tt.path, admin, tt.body)
				if r.status != tt.status || r.errorCode() != tt.code {
					t.Fatalf("= %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
				}
				if tt.field != "" && !strings.Contains(r.body, `"`+tt.field+`":`) {
					t.Errorf("error %s does not name field %q", r.body, tt.field)
				}
			})
		}

		t.Run("wrong content type", func(t *testing.T) {
			req, _ := http.NewRequest("POST", e.url+"/api/v1/components", strings.NewReader(`{"name":"x"}`))
			req.Header.Set("Content-Type", "text/plain")
			req.Header.Set("Authorization", "Bearer "+e.keys[admin])
			if r := e.send(req); r.status != 415 {
				t.Errorf("= %d %s, want 415", r.status, r.body)
			}
		})

		// Read back by id and by name; update; list; delete.
		for _, key := range []string{comp.ID, "Space%20Module"} {
			if r := e.do("GET", "/api/v1/components/"+key, gateway.RoleViewer, ""); r.status != 200 || !strings.Contains(r.body, comp.ID) {
				t.Errorf("GET /components/%s = %d %s", key, r.status, r.body)
			}
		}
		r = e.do("PATCH", "/api/v1/components/"+comp.ID, admin, `{"group":null,"description":"Rooms"}`)
		if r.status != 200 || !strings.Contains(r.body, `"description":"Rooms"`) || !strings.Contains(r.body, `"group_id":"`+group.ID) {
			t.Errorf("PATCH with a null group leaves the group: %d %s", r.status, r.body)
		}
		r = e.do("PATCH", "/api/v1/components/"+comp.ID, admin, `{"group":""}`)
		if r.status != 200 || !strings.Contains(r.body, `"group_id":null`) {
			t.Errorf("PATCH group \"\" = %d %s, want the group removed", r.status, r.body)
		}
		r = e.do("GET", "/api/v1/components", gateway.RoleViewer, "")
		var page struct {
			Data       []map[string]any `json:"data"`
			NextCursor *string          `json:"next_cursor"`
		}
		r.decode(t, &page)
		if len(page.Data) != 1 || page.NextCursor == nil {
			t.Errorf("list = %s, want one component and a next_cursor", r.body)
		}
		if r := e.do("DELETE", "/api/v1/components/"+comp.ID, admin, ""); r.status != 204 {
			t.Errorf("DELETE = %d %s", r.status, r.body)
		}
		if r := e.do("DELETE", "/api/v1/component-groups/"+group.ID, admin, ""); r.status != 204 {
			t.Errorf("DELETE group = %d %s", r.status, r.body)
		}

		// Every change is in the audit log with the key's name.
		r = e.do("GET", "/api/v1/audit", admin, "")
		for _, action := range []string{"component_group.create", "component.create", "component.update", "component.delete", "component_group.delete"} {
			if !strings.Contains(r.body, `"action":"`+action+`"`) {
				t.Errorf("audit log lacks %s: %s", action, r.body)
			}
		}
		if !strings.Contains(r.body, `"actor":"admin-key"`) {
			t.Errorf("audit log does not name the key: %s", r.body)
		}
	})
}

// TestComponentsSayWhyTheyAreHeld: a component that alerts made
// non-operational outside any incident says why (the reconcile pass
// records it); every other shows held null.
func TestComponentsSayWhyTheyAreHeld(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		for _, name := range []string{"API", "Web"} {
			if r := e.do("POST", "/api/v1/components", gateway.RoleAdmin, `{"name":"`+name+`"}`); r.status != 201 {
				t.Fatalf("create %s: %d %s", name, r.status, r.body)
			}
		}
		storetest.Exec(t, st, `UPDATE components SET status = 'major_outage', held = 'min_alerts' WHERE name = 'API'`)
		var list struct {
			Data []struct {
				Name string  `json:"name"`
				Held *string `json:"held"`
			} `json:"data"`
		}
		e.do("GET", "/api/v1/components", gateway.RoleViewer, "").decode(t, &list)
		got := map[string]string{}
		for _, c := range list.Data {
			got[c.Name] = "null"
			if c.Held != nil {
				got[c.Name] = *c.Held
			}
		}
		if got["API"] != "min_alerts" || got["Web"] != "null" {
			t.Errorf("held = %v, want API min_alerts and Web null", got)
		}
	})
}
