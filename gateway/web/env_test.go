package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/gateway/web"
	"github.com/heraldstatus/herald/subscribers"
)

// The seed's page: ten modules of one product and one mobile app.
var modules = []string{"Space Module", "Move Module", "Reservation Module", "Service Request Module", "Asset Module",
	"Inventory Module", "Mail Module", "Copy Module", "Visitor Module", "Insights Module"}

var support = gateway.Principal{Kind: "user", Name: "support", Role: gateway.RoleSupport}

// env is the seed's page in a fresh store, the incidents service that
// writes to it, the public pages over it, and a clock the test moves.
type env struct {
	t    testing.TB
	ctx  context.Context
	st   *store.Store
	svc  *incidents.Service
	srv  *httptest.Server
	subs atomic.Pointer[subscribers.Service]
	mu   sync.Mutex
	now  time.Time
}

func newEnv(t testing.TB, st *store.Store) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), st: st, now: time.Date(2021, 9, 16, 13, 54, 0, 0, time.UTC)}
	st.Now = e.clock
	d := store.Declaration{Groups: []store.DeclaredGroup{{Name: "Eptura Workplace Modules", Position: 0}, {Name: "Apps", Position: 1}}}
	for i, m := range modules {
		d.Components = append(d.Components, store.DeclaredComponent{Name: m, Group: "Eptura Workplace Modules", Position: i})
	}
	d.Components = append(d.Components, store.DeclaredComponent{Name: "Hummingbird App", Group: "Apps",
		Description: "The mobile app for iOS and Android."})
	if _, err := st.SyncConfig(e.ctx, d); err != nil {
		t.Fatal(err)
	}
	e.svc = incidents.New(incidents.Options{Store: st, Log: storetest.Logger(t), PublicURL: "https://status.example.com",
		Page: gateway.PageInfo{Name: "Eptura Workplace", URL: "https://status.example.com"}})
	// The subscribers service needs the server's URL, and the pages need
	// the service: the server starts first and serves them once built.
	ec := echo.New()
	ec.HTTPErrorHandler = jsonErrors
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ec.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	e.subs.Store(subscribers.New(st, subscribers.Options{Key: []byte(strings.Repeat("k", subscribers.MinKeyLength)),
		PublicURL: e.srv.URL, Page: gateway.PageInfo{Name: "Eptura Workplace", URL: e.srv.URL}, Now: e.clock,
		Log: storetest.Logger(t), IPBurst: 5, IPEvery: time.Hour}))
	web.Register(ec, web.Options{Page: gateway.PageInfo{Name: "Eptura Workplace", URL: "https://status.example.com"},
		Store: st, Subscribers: e.subs.Load(), Now: e.clock, Log: storetest.Logger(t)})
	return e
}

// jsonErrors stands in for gateway/http's error mapping: the JSON error
// shape with the status of the domain code.
func jsonErrors(err error, c echo.Context) {
	status := map[string]int{gateway.EINVALID: 400, gateway.EUNPROCESSABLE: 422, gateway.ENOTFOUND: 404,
		gateway.EFORBIDDEN: 403, gateway.ERATELIMITED: 429, gateway.EUNAVAILABLE: 503}[gateway.ErrorCode(err)]
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
	}
	if status == 0 {
		status = 500
	}
	_ = c.JSON(status, map[string]any{"error": map[string]string{"code": gateway.ErrorCode(err), "message": gateway.ErrorMessage(err)}})
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// seedOutage opens the seed's incident on every component and posts the
// seed's first updates; it returns the incident.
func (e *env) seedOutage() *gateway.Incident {
	e.t.Helper()
	comps := map[string]gateway.ComponentStatus{"Hummingbird App": gateway.DegradedPerformance}
	for _, m := range modules {
		comps[m] = gateway.MajorOutage
	}
	inc, err := e.svc.Create(e.ctx, support, incidents.NewIncident{Name: "Customers cannot reach their sites",
		Status: gateway.Investigating, Body: "iOFFICE is currently investigating an issue with customers site access.",
		Components: comps, Notify: true})
	if err != nil {
		e.t.Fatal(err)
	}
	e.advance(57 * time.Minute)
	e.update(inc.ID, gateway.Identified, "Our incident response team has identified the issue and is working hard to bring services back online.")
	e.advance(time.Hour)
	e.update(inc.ID, gateway.Identified, "We are continuing to work on a fix for this issue.")
	return inc
}

func (e *env) update(id string, st gateway.IncidentStatus, body string) {
	e.t.Helper()
	if _, err := e.svc.PostUpdate(e.ctx, support, id, incidents.NewUpdate{Status: st, Body: body, Notify: true}); err != nil {
		e.t.Fatal(err)
	}
}

// get fetches path with optional headers (name, value pairs) and returns
// the response with its body read.
func (e *env) get(path string, headers ...string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res, string(b)
}

// mustGet fetches path and fails unless it answers 200.
func (e *env) mustGet(path string) string {
	e.t.Helper()
	res, body := e.get(path)
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s = %d: %s", path, res.StatusCode, body)
	}
	return body
}

// httptestRecorder serves one GET of path by h.
func httptestRecorder(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}
