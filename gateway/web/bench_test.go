package web_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/gateway/web"
)

// benchPage is the seed's page mid-outage on SQLite, with a resolved
// incident and a maintenance besides, served by the public handler alone
// (no network): what one request costs the server.
func benchPage(b *testing.B) (*env, http.Handler) {
	b.Helper()
	st := storetest.Open(b, "sqlite")
	e := newEnv(b, st)
	old := e.seedOutage()
	e.update(old.ID, gateway.Resolved, "All systems have returned to a stable state.")
	e.advance(24 * time.Hour)
	e.seedOutage()
	ec := echo.New()
	// No Page.URL: links follow the Host header, which the render
	// benchmarks vary to get past the body cache.
	web.Register(ec, web.Options{Page: gateway.PageInfo{Name: "Eptura Workplace"}, Store: st,
		Now: e.clock, Log: storetest.Logger(b)})
	return e, ec
}

func serveBench(b *testing.B, h http.Handler, path string, prepare func(i int, r *http.Request), want int) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		if prepare != nil {
			prepare(i, r)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != want {
			b.Fatalf("GET %s = %d: %s", path, rec.Code, rec.Body)
		}
	}
}

// BenchmarkStatusPage measures GET /: cached (one version query, the body
// of this version from memory), revalidated (a 304), and rendered (the
// clock moves a minute each time, so the uptime bars are recomputed).
func BenchmarkStatusPage(b *testing.B) {
	e, h := benchPage(b)
	b.Run("cached", func(b *testing.B) { serveBench(b, h, "/", nil, http.StatusOK) })
	etag := httptestRecorder(h, "/").Header().Get("ETag")
	b.Run("not-modified", func(b *testing.B) {
		serveBench(b, h, "/", func(_ int, r *http.Request) { r.Header.Set("If-None-Match", etag) }, http.StatusNotModified)
	})
	b.Run("render", func(b *testing.B) {
		serveBench(b, h, "/", func(int, *http.Request) { e.advance(time.Minute) }, http.StatusOK)
	})
}

// BenchmarkSummaryJSON measures GET /api/v2/summary.json, cached and
// rendered (each request from another host, hence another body).
func BenchmarkSummaryJSON(b *testing.B) {
	_, h := benchPage(b)
	b.Run("cached", func(b *testing.B) { serveBench(b, h, "/api/v2/summary.json", nil, http.StatusOK) })
	b.Run("render", func(b *testing.B) {
		serveBench(b, h, "/api/v2/summary.json", func(i int, r *http.Request) { r.Host = "h" + strconv.Itoa(i) + ".example.com" }, http.StatusOK)
	})
}
