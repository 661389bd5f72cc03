package http_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// env is a running server on a real store with one key per role.
type env struct {
	t    *testing.T
	url  string
	srv  *herhttp.Server
	svc  herhttp.Services // what srv was last given
	keys map[gateway.Role]string
}

func newEnv(t *testing.T, st *store.Store, opt herhttp.Options) *env {
	t.Helper()
	if opt.Log == nil {
		opt.Log = storetest.Logger(t)
	}
	srv := herhttp.New(opt)
	svc := herhttp.Services{Store: st}
	srv.Publish(svc)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	e := &env{t: t, url: ts.URL, srv: srv, svc: svc, keys: map[gateway.Role]string{}}
	for _, r := range []gateway.Role{gateway.RoleAdmin, gateway.RoleSupport, gateway.RoleViewer} {
		_, secret, err := st.CreateAPIKey(context.Background(), string(r)+"-key", r, "test")
		if err != nil {
			t.Fatal(err)
		}
		e.keys[r] = secret
	}
	return e
}

// publish gives the server its services again, changed by set (a test
// adds a service the way serve would have made it).
func (e *env) publish(set func(*herhttp.Services)) {
	set(&e.svc)
	e.srv.Publish(e.svc)
}

type response struct {
	status int
	header http.Header
	body   string
}

// errorCode returns the code of a JSON error body.
func (r response) errorCode() string {
	var b struct {
		Error struct {
			Code   string            `json:"code"`
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	_ = json.Unmarshal([]byte(r.body), &b)
	return b.Error.Code
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// do sends a request as role ("" for no key); body is JSON.
func (e *env) do(method, path string, role gateway.Role, body string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[role])
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) response {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func TestHealthAndReadiness(t *testing.T) {
	srv := herhttp.New(herhttp.Options{Log: storetest.Logger(t), Version: "test"})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	get := func(path string) (int, string, http.Header) {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	srv.SetNotReady("database unreachable: connection refused")
	if code, _, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz without a store = %d, want 200", code)
	}
	code, body, h := get("/readyz")
	if code != 503 || !strings.Contains(body, "connection refused") || h.Get("Retry-After") == "" {
		t.Errorf("/readyz without a store = %d %q (Retry-After %q), want 503 with the reason", code, body, h.Get("Retry-After"))
	}
	if code, body, h := get("/api/v1/components"); code != 503 || !strings.Contains(body, `"unavailable"`) || h.Get("Retry-After") == "" {
		t.Errorf("API without a store = %d %q, want 503 unavailable with Retry-After", code, body)
	}

	srv.Publish(herhttp.Services{Store: storetest.Open(t, "sqlite")})
	if code, body, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz with a store = %d %q, want 200", code, body)
	}
	code, body, h = get("/metrics")
	if code != 200 || !strings.Contains(body, "herald_store_ready 1") || !strings.Contains(body, "herald_http_request_duration_seconds") {
		t.Errorf("/metrics = %d, missing Herald's metrics:\n%.500s", code, body)
	}
	if !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Errorf("/metrics content type %q, want Prometheus text format", h.Get("Content-Type"))
	}
	if _, _, h := get("/healthz"); h.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id on responses")
	}
}

func TestReadinessFollowsTheDatabase(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		if r := e.do("GET", "/readyz", "", ""); r.status != 200 {
			t.Fatalf("/readyz = %d", r.status)
		}
		st.Close() // the database goes away under a running server
		if r := e.do("GET", "/readyz", "", ""); r.status != 503 {
			t.Errorf("/readyz after the database closed = %d %s, want 503", r.status, r.body)
		}
	})
}

// TestStartingThenReady: before Publish every route that needs the store
// answers 503 with Retry-After, in the API's error shape or, for the
// public pages and the console, their own HTML page; Publish swaps in the
// ready router, where an unknown API path is 404 again.
func TestStartingThenReady(t *testing.T) {
	srv := herhttp.New(herhttp.Options{Log: storetest.Logger(t)})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	send := func(method, path string) (int, string, http.Header) {
		t.Helper()
		req, err := http.NewRequest(method, ts.URL+path, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	for _, tc := range []struct{ method, path, ctype string }{
		{"POST", "/ingest/am", "application/json"}, {"POST", "/v2/enqueue", "application/json"},
		{"GET", "/api/v1/components", "application/json"}, {"GET", "/api/v1/nope", "application/json"},
		{"GET", "/subscribe", "text/html"}, {"GET", "/console", "text/html"}, {"GET", "/", "text/html"},
	} {
		code, body, h := send(tc.method, tc.path)
		if code != 503 || h.Get("Retry-After") == "" || !strings.HasPrefix(h.Get("Content-Type"), tc.ctype) {
			t.Errorf("starting: %s %s = %d %q (Retry-After %q): %.200s", tc.method, tc.path, code, h.Get("Content-Type"), h.Get("Retry-After"), body)
		}
	}
	if code, _, _ := send("GET", "/assets/style.css"); code != 200 {
		t.Errorf("starting: the public pages' style sheet = %d, want 200", code)
	}

	srv.Publish(herhttp.Services{Store: storetest.Open(t, "sqlite")})
	if code, body, _ := send("GET", "/api/v1/nope"); code != 401 && code != 404 {
		t.Errorf("ready: GET /api/v1/nope = %d %s, want 401 or 404", code, body)
	}
	if code, body, _ := send("POST", "/ingest/am"); code != 401 {
		t.Errorf("ready: an unknown source = %d %s, want 401", code, body)
	}
	if code, body, _ := send("GET", "/readyz"); code != 200 {
		t.Errorf("ready: /readyz = %d %s", code, body)
	}
}
