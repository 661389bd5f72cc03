package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"go.yaml.in/yaml/v3"

	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// The answers an alertmanager-api source gives Alertmanager's clients
// validate against Alertmanager's published OpenAPI document: status codes
// (an undocumented one, such as 202, fails), content types and bodies,
// refusals included (400 with a JSON string). The accepted requests are
// the ones real clients send (Prometheus's list, amtool's alert add),
// themselves validated against the document.
func TestAlertmanagerAPIAnswersItsOpenAPIDocument(t *testing.T) {
	doc := swagger2(t, "testdata/alertmanager/openapi.yaml")
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{Version: "1.4.0"})
		_, token := e.source("prom", "alertmanager-api", 0)
		tests := []struct {
			name, method, path, specPath, body string
			status                             int
		}{
			{"Prometheus posts firing alerts", "POST", "/ingest/prom/api/v2/alerts", "/alerts",
				sample(t, "alertmanagerapi", "api-v2-alerts-post-firing.json"), 200},
			{"Prometheus posts resolved alerts", "POST", "/ingest/prom/api/v2/alerts", "/alerts",
				sample(t, "alertmanagerapi", "api-v2-alerts-post-resolve.json"), 200},
			{"amtool alert add", "POST", "/ingest/prom/api/v2/alerts", "/alerts",
				sample(t, "alertmanagerapi", "amtool-0.25-alert-add.json"), 200},
			{"the source's own URL", "POST", "/ingest/prom", "/alerts",
				sample(t, "alertmanagerapi", "amtool-0.25-alert-add.json"), 200},
			{"status", "GET", "/ingest/prom/api/v2/status", "/status", "", 200},
			// Requests Alertmanager refuses with 400 and its message.
			{"malformed", "POST", "/ingest/prom/api/v2/alerts", "/alerts", `[{"labels":`, 400},
			{"an alert without labels", "POST", "/ingest/prom/api/v2/alerts", "/alerts", `[{"labels":{}}]`, 400},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				req, _ := http.NewRequest(tt.method, e.url+tt.path, strings.NewReader(tt.body))
				req.Header.Set("Authorization", "Bearer "+token)
				if tt.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				r := e.send(req)
				if r.status != tt.status {
					t.Fatalf("= %d %s, want %d", r.status, r.body, tt.status)
				}
				validate(t, doc, tt.specPath, tt.method, tt.body, tt.status == 200, r)
				var msg string
				if tt.status == 400 && (json.Unmarshal([]byte(r.body), &msg) != nil || msg == "") {
					t.Errorf("400 body %s, want the problem as a JSON string", r.body)
				}
				if tt.method == "GET" && !strings.Contains(r.body, `"version":"1.4.0"`) {
					t.Errorf("status = %s, want Herald's version", r.body)
				}
			})
		}
	})
}

// The status document is the source's: it needs the source's token, and a
// source of another kind is no Alertmanager.
func TestAlertmanagerAPIStatusNeedsItsSource(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		_, apiToken := e.source("prom", "alertmanager-api", 0)
		_, hookToken := e.source("am", "alertmanager", 0)
		tests := []struct {
			name, path, auth string
			status           int
		}{
			{"no token", "/ingest/prom/api/v2/status", "", 401},
			{"another source's token", "/ingest/prom/api/v2/status", "Bearer " + hookToken, 401},
			{"basic auth, as amtool sends a URL's user info", "/ingest/prom/api/v2/status", "Basic " + basicAuth("amtool", apiToken), 200},
			{"a webhook source", "/ingest/am/api/v2/status", "Bearer " + hookToken, 404},
			{"unknown source: as a wrong token, so names cannot be tried", "/ingest/nope/api/v2/status", "Bearer " + apiToken, 401},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				req, _ := http.NewRequest("GET", e.url+tt.path, nil)
				if tt.auth != "" {
					req.Header.Set("Authorization", tt.auth)
				}
				if r := e.send(req); r.status != tt.status {
					t.Errorf("= %d %s, want %d", r.status, r.body, tt.status)
				}
			})
		}
	})
}

// Herald's Events API v2 answers validate against PagerDuty's published
// reference, and carry the same keys, JSON types and words as PagerDuty's
// documented answers (testdata/pagerduty/pagerduty-responses.json). The
// reference gives the 400 answer no schema; its Error schema is what
// PagerDuty's invalid-event body follows, so the 400 body is held to it.
func TestPagerDutyAnswersItsReference(t *testing.T) {
	doc := openapi3Doc(t, "testdata/pagerduty/events-v2-openapiv3.json")
	var documented map[string]json.RawMessage
	readJSON(t, "testdata/pagerduty/pagerduty-responses.json", &documented)
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		_, token := e.source("uptime", "pagerduty", 0)
		trigger := strings.Replace(sample(t, "pagerduty", "pagerduty-enqueue-trigger.json"), "0123456789abcdef0123456789abcdef", token, 1)
		resolve := strings.Replace(sample(t, "pagerduty", "pagerduty-enqueue-resolve.json"), "0123456789abcdef0123456789abcdef", token, 1)
		if trigger == sample(t, "pagerduty", "pagerduty-enqueue-trigger.json") || resolve == sample(t, "pagerduty", "pagerduty-enqueue-resolve.json") {
			t.Fatal("the samples' routing_key changed; update the test")
		}
		invalid := `{"routing_key":"` + token + `","event_action":"trigger","payload":{"summary":"x","source":"y"}}`
		tests := []struct {
			name, path, body string
			status           int
		}{
			{"trigger", "/v2/enqueue", trigger, 202},
			{"resolve", "/v2/enqueue", resolve, 202},
			{"trigger at the source's own URL", "/ingest/uptime", trigger, 202},
			{"invalid event", "/v2/enqueue", invalid, 400},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.post(tt.path, "", "application/json", strings.NewReader(tt.body))
				if r.status != tt.status {
					t.Fatalf("= %d %s, want %d", r.status, r.body, tt.status)
				}
				// Requests are not checked: PagerDuty's own examples write
				// timestamps as "+0000", which its reference's date-time
				// format refuses, and one event here is invalid on purpose.
				validate(t, doc, "/enqueue", "POST", tt.body, false, r)
				if tt.status == 400 {
					errSchema := doc.Components.Responses["Error"].Value.Content.Get("application/json").Schema.Value
					var v any
					if err := json.Unmarshal([]byte(r.body), &v); err != nil {
						t.Fatal(err)
					}
					if err := errSchema.VisitJSON(v); err != nil {
						t.Errorf("400 body %s does not follow the reference's Error schema: %v", r.body, err)
					}
				}
				sameShape(t, documented[strconv.Itoa(r.status)], []byte(r.body))
			})
		}
	})
}

// sameShape checks that got has every key of want with the same JSON type,
// and the same "status" and "message" words.
func sameShape(t *testing.T, want json.RawMessage, got []byte) {
	t.Helper()
	if want == nil {
		t.Fatalf("no documented answer to compare %s with", got)
	}
	var w, g map[string]any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("answer %s is not a JSON object: %v", got, err)
	}
	for k, wv := range w {
		gv, ok := g[k]
		if !ok {
			t.Errorf("answer %s lacks %q", got, k)
			continue
		}
		if reflect.TypeOf(gv) != reflect.TypeOf(wv) {
			t.Errorf("answer's %q is %T, documented %T", k, gv, wv)
		}
	}
	for _, k := range []string{"status", "message"} {
		if g[k] != w[k] {
			t.Errorf("answer's %q = %v, documented %v", k, g[k], w[k])
		}
	}
}

// validate checks the answer r to a request (method, the document's path,
// body) against doc: an undocumented status fails, as does a body that
// does not follow its schema. With checkRequest, the request is checked
// too.
func validate(t *testing.T, doc *openapi3.T, specPath, method, body string, checkRequest bool, r response) {
	t.Helper()
	item := doc.Paths.Find(specPath)
	if item == nil || item.GetOperation(method) == nil {
		t.Fatalf("the document has no %s %s", method, specPath)
	}
	route := &routers.Route{Spec: doc, Path: specPath, PathItem: item, Method: method, Operation: item.GetOperation(method)}
	ctx := context.Background()
	req, _ := http.NewRequest(method, "http://herald.invalid"+specPath, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	in := &openapi3filter.RequestValidationInput{Request: req, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}}
	if !checkRequest {
		in.Options = &openapi3filter.Options{ExcludeRequestBody: true, IncludeResponseStatus: true}
	}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		t.Fatalf("the request does not follow the document: %v", err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.status, Header: r.header,
		Body: io.NopCloser(bytes.NewReader([]byte(r.body))), Options: in.Options}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("answer %d %s does not follow the document: %v", r.status, r.body, err)
	}
}

// swagger2 loads a Swagger 2.0 document in YAML as OpenAPI 3.
func swagger2(t *testing.T, path string) *openapi3.T {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := yaml.Unmarshal(b, &tree); err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	var d2 openapi2.T
	if err := json.Unmarshal(j, &d2); err != nil {
		t.Fatal(err)
	}
	d3, err := openapi2conv.ToV3(&d2)
	if err != nil {
		t.Fatal(err)
	}
	if err := d3.Validate(context.Background()); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d3
}

func openapi3Doc(t *testing.T, path string) *openapi3.T {
	t.Helper()
	d, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(context.Background()); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
