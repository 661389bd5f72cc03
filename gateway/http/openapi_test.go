package http_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// openAPIDoc fetches the served description: it needs no key.
func openAPIDoc(t *testing.T, e *env) []byte {
	t.Helper()
	res := e.do("GET", "/api/v1/openapi.json", "", "")
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", res.status, res.header.Get("Content-Type"))
	}
	return []byte(res.body)
}

// TestOpenAPIDescribesEveryRoute compares Echo's route table under /api/v1
// with the description's paths, both ways, and validates the document
// against the OpenAPI 3.1 schema with libopenapi.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		spec := openAPIDoc(t, e)

		var doc struct {
			OpenAPI string                    `json:"openapi"`
			Paths   map[string]map[string]any `json:"paths"`
		}
		if err := json.Unmarshal(spec, &doc); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(doc.OpenAPI, "3.1") {
			t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
		}
		documented := map[string]bool{}
		for path, ops := range doc.Paths {
			for method := range ops {
				if method == "parameters" {
					continue
				}
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
		served := map[string]bool{}
		for _, r := range e.srv.Routes() {
			path, ok := strings.CutPrefix(r.Path, "/api/v1")
			if !ok || path == "" || strings.HasSuffix(path, "*") || r.Method == "echo_route_any" {
				continue // the group's not-found catch-alls
			}
			parts := strings.Split(path, "/")
			for i, p := range parts {
				if name, ok := strings.CutPrefix(p, ":"); ok {
					parts[i] = "{" + name + "}"
				}
			}
			served[r.Method+" "+strings.Join(parts, "/")] = true
		}
		var missing, stale []string
		for r := range served {
			if !documented[r] {
				missing = append(missing, r)
			}
		}
		for r := range documented {
			if !served[r] {
				stale = append(stale, r)
			}
		}
		sort.Strings(missing)
		sort.Strings(stale)
		if len(missing) > 0 {
			t.Errorf("routes served but not in openapi.json: %v", missing)
		}
		if len(stale) > 0 {
			t.Errorf("routes in openapi.json that are not served: %v", stale)
		}
		if len(served) < 50 {
			t.Errorf("only %d routes found under /api/v1: the route walk is broken", len(served))
		}

		d, err := libopenapi.NewDocument(spec)
		if err != nil {
			t.Fatal(err)
		}
		v, errs := validator.NewValidator(d)
		if len(errs) > 0 {
			t.Fatalf("building the validator: %v", errs)
		}
		if ok, verrs := v.ValidateDocument(); !ok {
			for _, ve := range verrs {
				t.Errorf("openapi.json is not valid OpenAPI: %s: %s", ve.Message, ve.Reason)
			}
		}
	})
}

// TestOpenAPIMatchesRealAnswers checks a sample of real answers (success
// and error, each family of objects) against the description's schemas.
func TestOpenAPIMatchesRealAnswers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := withSubscribers(t, newEnv(t, st, herhttp.Options{}), st) // makes component "App"
		e.publish(func(s *herhttp.Services) {
			s.Incidents = incidents.New(incidents.Options{Store: st, Log: storetest.Logger(t), PublicURL: "http://status.test"})
		})
		d, err := libopenapi.NewDocument(openAPIDoc(t, e))
		if err != nil {
			t.Fatal(err)
		}
		v, errs := validator.NewValidator(d)
		if len(errs) > 0 {
			t.Fatalf("building the validator: %v", errs)
		}
		check := func(method, path string, role gateway.Role, body string, wantStatus int) string {
			t.Helper()
			req, err := http.NewRequestWithContext(context.Background(), method, e.url+path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if role != "" {
				req.Header.Set("Authorization", "Bearer "+e.keys[role])
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			if res.StatusCode != wantStatus {
				t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, wantStatus, raw)
			}
			// The validator reads the body again.
			res.Body = io.NopCloser(strings.NewReader(string(raw)))
			req.URL.Path = strings.TrimPrefix(req.URL.Path, "/api/v1")
			if ok, verrs := v.ValidateHttpResponse(req, res); !ok {
				for _, ve := range verrs {
					t.Errorf("%s %s: the answer does not match openapi.json: %s: %s %v", method, path, ve.Message, ve.Reason, ve.SchemaValidationErrors)
				}
			}
			return string(raw)
		}
		check("POST", "/api/v1/component-groups", gateway.RoleAdmin, `{"name":"Modules"}`, 201)
		comp := check("POST", "/api/v1/components", gateway.RoleAdmin, `{"name":"Space Module","group":"Modules"}`, 201)
		check("GET", "/api/v1/components", gateway.RoleViewer, "", 200)
		check("POST", "/api/v1/sources", gateway.RoleAdmin, `{"name":"prometheus","kind":"generic"}`, 201)
		check("POST", "/api/v1/rules", gateway.RoleAdmin, `{"matchers":["service=space"],"components":["Space Module"]}`, 201)
		check("GET", "/api/v1/rules", gateway.RoleViewer, "", 200)
		inc := check("POST", "/api/v1/incidents", gateway.RoleSupport,
			`{"name":"DNS","status":"investigating","body":"We are looking into it.","components":{"Space Module":"major_outage"}}`, 201)
		var got struct{ ID string }
		if err := json.Unmarshal([]byte(inc), &got); err != nil {
			t.Fatal(err)
		}
		check("GET", "/api/v1/incidents/"+got.ID, gateway.RoleViewer, "", 200)
		check("GET", "/api/v1/incidents", gateway.RoleViewer, "", 200)
		ann := check("POST", "/api/v1/subscribers", gateway.RoleSupport, `{"email":"ann@example.com"}`, 201)
		if err := json.Unmarshal([]byte(ann), &got); err != nil {
			t.Fatal(err)
		}
		check("POST", "/api/v1/subscribers/"+got.ID+"/reconfirm", gateway.RoleSupport, "", 429) // her first went out just now
		check("POST", "/api/v1/apikeys", gateway.RoleAdmin, `{"name":"ci","role":"viewer","expires_at":"2099-01-01T00:00:00Z"}`, 201)
		check("GET", "/api/v1/apikeys", gateway.RoleAdmin, "", 200)
		check("GET", "/api/v1/subscribers", gateway.RoleSupport, "", 200)
		check("GET", "/api/v1/deliveries", gateway.RoleViewer, "", 200)
		check("GET", "/api/v1/audit", gateway.RoleAdmin, "", 200)
		check("GET", "/api/v1/alerts", gateway.RoleViewer, "", 200)
		// Errors have one shape.
		check("POST", "/api/v1/components", gateway.RoleAdmin, `{"nme":"typo"}`, 422)
		check("GET", "/api/v1/components", "", "", 401)
		check("POST", "/api/v1/components", gateway.RoleViewer, `{"name":"x"}`, 403)
		_ = comp
	})
}
