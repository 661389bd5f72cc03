package http_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func TestSourcesAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		admin, viewer := gateway.RoleAdmin, gateway.RoleViewer
		r := e.do("POST", "/api/v1/sources", admin, `{"name":"prometheus","kind":"alertmanager","rate_limit":50}`)
		if r.status != 201 || !strings.Contains(r.body, `"token":"hsrc_`) || !strings.Contains(r.body, `"ingest_path":"/ingest/prometheus"`) {
			t.Fatalf("create = %d %s, want 201 with the token", r.status, r.body)
		}
		var src struct{ ID, Token string }
		r.decode(t, &src)

		errorCases := []struct {
			name, method, path, body string
			role                     gateway.Role
			status                   int
			field                    string
		}{
			{"viewer may not create", "POST", "/api/v1/sources", `{"name":"x","kind":"generic"}`, viewer, 403, ""},
			{"missing name", "POST", "/api/v1/sources", `{"kind":"generic"}`, admin, 422, "name"},
			{"name not a path segment", "POST", "/api/v1/sources", `{"name":"Pro metheus","kind":"generic"}`, admin, 422, "name"},
			{"unknown kind", "POST", "/api/v1/sources", `{"name":"x","kind":"nagios"}`, admin, 422, "kind"},
			{"missing kind", "POST", "/api/v1/sources", `{"name":"x"}`, admin, 422, "kind"},
			{"negative rate", "POST", "/api/v1/sources", `{"name":"x","kind":"generic","rate_limit":-1}`, admin, 422, "rate_limit"},
			{"duplicate", "POST", "/api/v1/sources", `{"name":"prometheus","kind":"generic"}`, admin, 409, "name"},
			{"rename", "PATCH", "/api/v1/sources/" + src.ID, `{"name":"other"}`, admin, 422, "name"},
			{"unknown source", "GET", "/api/v1/sources/nope", "", viewer, 404, ""},
			{"viewer may not rotate", "POST", "/api/v1/sources/" + src.ID + "/rotate-token", "", viewer, 403, ""},
		}
		for _, tt := range errorCases {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(tt.method, tt.path, tt.role, tt.body)
				if r.status != tt.status {
					t.Fatalf("= %d %s, want %d", r.status, r.body, tt.status)
				}
				if tt.field != "" && !strings.Contains(r.body, `"`+tt.field+`":`) {
					t.Errorf("error %s does not name %q", r.body, tt.field)
				}
			})
		}

		r = e.do("PATCH", "/api/v1/sources/prometheus", admin, `{"kind":"alertmanager-api","rate_limit":0}`)
		if r.status != 200 || !strings.Contains(r.body, `"kind":"alertmanager-api"`) || strings.Contains(r.body, `"token"`) {
			t.Errorf("PATCH = %d %s", r.status, r.body)
		}
		r = e.do("GET", "/api/v1/sources", viewer, "")
		if r.status != 200 || !strings.Contains(r.body, `"data":[{`) || strings.Contains(r.body, src.Token) {
			t.Errorf("list = %d %s, want the source without its token", r.status, r.body)
		}
		if r := e.do("DELETE", "/api/v1/sources/"+src.ID, admin, ""); r.status != 204 {
			t.Errorf("DELETE = %d %s", r.status, r.body)
		}
		if r := e.post("/ingest/prometheus", "Bearer "+src.Token, "", strings.NewReader(`[]`)); r.status != 401 {
			t.Errorf("ingest to a deleted source = %d %s, want 401 as for any unknown source", r.status, r.body)
		}
		r = e.do("GET", "/api/v1/audit", admin, "")
		for _, action := range []string{"source.create", "source.update", "source.delete"} {
			if !strings.Contains(r.body, `"action":"`+action+`"`) {
				t.Errorf("audit log lacks %s", action)
			}
		}
		if strings.Contains(r.body, src.Token) {
			t.Error("the audit log holds a token")
		}
	})
}

// A source declared in the config file keeps the file's token.
func TestConfigSourceTokenIsNotRotated(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		_, err := st.SyncConfig(t.Context(), store.Declaration{Sources: []store.DeclaredSource{
			{Name: "prom", Kind: "alertmanager", Token: "a-token-from-the-file"}}})
		if err != nil {
			t.Fatal(err)
		}
		if r := e.do("POST", "/api/v1/sources/prom/rotate-token", gateway.RoleAdmin, ""); r.status != 409 {
			t.Errorf("rotate a config source = %d %s, want 409", r.status, r.body)
		}
	})
}

// A viewer sees at most 4 characters of a config-declared token (they
// used to see 9, and the whole of a short one).
func TestViewerSeesAtMostFourCharactersOfAToken(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		const token = "a-token-from-the-file"
		if _, err := st.SyncConfig(t.Context(), store.Declaration{Sources: []store.DeclaredSource{
			{Name: "prom", Kind: "alertmanager", Token: token}}}); err != nil {
			t.Fatal(err)
		}
		r := e.do("GET", "/api/v1/sources", gateway.RoleViewer, "")
		var out struct {
			Data []struct {
				TokenPrefix string `json:"token_prefix"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(r.body), &out); err != nil || len(out.Data) != 1 {
			t.Fatalf("list = %d %s", r.status, r.body)
		}
		if p := out.Data[0].TokenPrefix; len(p) > 4 || !strings.HasPrefix(token, p) || strings.Contains(r.body, token[:5]) {
			t.Errorf("a viewer sees %q of the token; want at most its first 4 characters", p)
		}
	})
}

// The probes' own source has no token and no decoder: giving it a token
// would let a client resolve the probes' alerts, so the API refuses every
// change to it, and a source of that name cannot be made.
func TestProbeSourceIsHeraldsOwn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		if r := e.do("POST", "/api/v1/sources", gateway.RoleAdmin, `{"name":"probe","kind":"generic"}`); r.status != 409 {
			t.Errorf("creating a source named probe: %d %s, want 409", r.status, r.body)
		}
		src, err := st.ProbeSource(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/api/v1/sources/" + src.ID + "/rotate-token", ""},
			{"PATCH", "/api/v1/sources/" + src.ID, `{"kind":"generic"}`},
			{"DELETE", "/api/v1/sources/" + src.ID, ""},
		} {
			if r := e.do(c.method, c.path, gateway.RoleAdmin, c.body); r.status != 409 || r.errorCode() != "conflict" {
				t.Errorf("%s %s: %d %s, want 409 conflict", c.method, c.path, r.status, r.body)
			}
		}
		after, err := st.Source(context.Background(), src.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.TokenHash != src.TokenHash || after.Kind != src.Kind {
			t.Errorf("the probe source changed: %+v → %+v", src, after)
		}
	})
}
