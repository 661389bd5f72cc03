package console

// Test helpers for every console screen. A typical screen test:
//
//	func TestIncidentScreen(t *testing.T) {
//		for _, d := range storetest.Databases() {
//			t.Run(d, func(t *testing.T) {
//				e := newTestEnv(t, d)
//				c := e.signIn(gateway.RoleSupport)         // a user of that role, signed in
//				res := c.submit("/console/incidents/new",  // fetch the form page …
//					"/console/incidents", url.Values{"name": {"API down"}}) // … post with its CSRF token
//				res.wantStatus(t, http.StatusOK)           // after the redirect
//				res.wantContains(t, "Incident opened")     // the flash message
//				e.wantAudit(t, "incident.create", c.name)  // the audit log names the person
//			})
//		}
//	}

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/catalog"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// testEnv is a console over a real, migrated store (SQLite or
// PostgreSQL) behind an httptest server, with the incidents service wired
// as `herald serve` wires it and a clock the test moves.
type testEnv struct {
	t     *testing.T
	st    *store.Store
	inc   *incidents.Service
	h     *Handler
	srv   *httptest.Server
	clock *testClock
}

// testClock is a settable clock for session expiry and rate limits.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward by d.
func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// envOption changes a test console before it starts.
type envOption func(*envSetup)

type envSetup struct {
	opt     Options
	screens []func(h *Handler, r Router)
}

// withOptions changes the console's Options (limits, PublicURL, …).
func withOptions(fn func(*Options)) envOption { return func(s *envSetup) { fn(&s.opt) } }

// withScreen registers extra routes, as a screen in the screens list does.
func withScreen(fn func(h *Handler, r Router)) envOption {
	return func(s *envSetup) { s.screens = append(s.screens, fn) }
}

// newTestEnv starts a console on a fresh database of dialect ("sqlite" or
// "postgres").
func newTestEnv(t *testing.T, dialect string, options ...envOption) *testEnv {
	t.Helper()
	st := storetest.Open(t, dialect)
	log := storetest.Logger(t)
	clock := &testClock{t: time.Now().UTC()}
	inc := incidents.New(incidents.Options{Store: st, Log: log})
	setup := envSetup{opt: Options{
		Store:     st,
		Incidents: inc,
		Catalog:   catalog.New(st),
		Page:      gateway.PageInfo{Name: "Example Status"},
		Now:       clock.Now,
		Log:       log,
	}}
	for _, o := range options {
		o(&setup)
	}
	e := echo.New()
	// The client address of the connection, or, as behind a reverse proxy
	// on loopback, of X-Real-IP: clients with from set say where they are.
	e.IPExtractor = echo.ExtractIPFromRealIPHeader()
	h := Register(e, setup.opt)
	for _, screen := range setup.screens {
		screen(h, Router{h: h, g: e.Group(Prefix)})
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &testEnv{t: t, st: st, inc: inc, h: h, srv: srv, clock: clock}
}

// createUser adds an account of role and returns its email and password.
func (e *testEnv) createUser(role gateway.Role, name string) (email, password string) {
	e.t.Helper()
	email = strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com"
	password = GeneratePassword()
	if err := e.st.CreateUser(context.Background(), &store.User{Email: email, Name: name, Role: role, PasswordHash: HashPassword(password)}); err != nil {
		e.t.Fatal(err)
	}
	return email, password
}

// client is a browser-like HTTP client: it keeps cookies and follows
// redirects (post/redirect/get), as a person's browser does.
type client struct {
	e    *testEnv
	http *http.Client
	name string // the signed-in person's name, once signed in
	from string // the client address it presents (X-Real-IP), if any
}

// newClient returns a client with an empty cookie jar.
func (e *testEnv) newClient() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// signIn creates a user of role ("Ann Support" for support, …) and
// returns a client signed in as that user.
func (e *testEnv) signIn(role gateway.Role) *client {
	e.t.Helper()
	name := "Ann " + strings.ToUpper(string(role[:1])) + string(role[1:])
	email, password := e.createUser(role, name)
	c := e.newClient()
	res := c.submit("/console/login", "/console/login", url.Values{"email": {email}, "password": {password}})
	if res.status != http.StatusOK || !strings.Contains(res.body, name) {
		e.t.Fatalf("sign in as %s: %d %s", name, res.status, res.body)
	}
	c.name = name
	return c
}

// response is what a request ended with, after redirects.
type response struct {
	status int
	url    *url.URL // the final URL, after redirects
	header http.Header
	body   string
}

func (c *client) do(req *http.Request) response {
	c.e.t.Helper()
	if c.from != "" {
		req.Header.Set("X-Real-IP", c.from)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, url: res.Request.URL, header: res.Header, body: string(b)}
}

// get fetches path.
func (c *client) get(path string) response {
	c.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.e.srv.URL+path, nil)
	return c.do(req)
}

// post sends a form to path as is (no token added: for refusal tests).
func (c *client) post(path string, form url.Values) response {
	c.e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf fetches page and returns its CSRF token (failing without one).
func (c *client) csrf(page string) string {
	c.e.t.Helper()
	res := c.get(page)
	m := csrfField.FindStringSubmatch(res.body)
	if m == nil {
		c.e.t.Fatalf("GET %s: %d, no CSRF token in %s", page, res.status, res.body)
	}
	return m[1]
}

// submit does what a person does: opens page, then posts form to action
// with the page's CSRF token, following the redirect.
func (c *client) submit(page, action string, form url.Values) response {
	c.e.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("_csrf", c.csrf(page))
	return c.post(action, f)
}

func (r response) wantStatus(t *testing.T, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, want, r.body)
	}
}

func (r response) wantContains(t *testing.T, want string) {
	t.Helper()
	if !strings.Contains(r.body, want) {
		t.Errorf("body lacks %q:\n%s", want, r.body)
	}
}

// wantAudit checks that the newest audit entry of action names actor.
func (e *testEnv) wantAudit(t *testing.T, action, actor string) {
	t.Helper()
	entries, err := e.st.AuditLog(context.Background(), store.AuditQuery{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range entries {
		if a.Action == action {
			if a.Actor != actor {
				t.Errorf("audit %s by %q, want %q", action, a.Actor, actor)
			}
			return
		}
	}
	t.Errorf("no audit entry %s (of %d)", action, len(entries))
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
