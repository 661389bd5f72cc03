package http_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// The public pages are on the server from the start: 503 while the store
// is not set (HTML for pages, the JSON error shape for the API and
// feeds), then the page named by Options.Page.
func TestPublicPagesFollowTheStore(t *testing.T) {
	srv := herhttp.New(herhttp.Options{Log: storetest.Logger(t), Page: gateway.PageInfo{Name: "Eptura Workplace", URL: "https://status.example.com"}})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := ts.Client().Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	for path, ctype := range map[string]string{"/": "text/html", "/history": "text/html",
		"/api/v2/summary.json": "application/json", "/history.atom": "application/json"} {
		res, body := get(path)
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" ||
			!strings.HasPrefix(res.Header.Get("Content-Type"), ctype) {
			t.Errorf("before the store, GET %s = %d %q (Retry-After %q): %s", path, res.StatusCode,
				res.Header.Get("Content-Type"), res.Header.Get("Retry-After"), body)
		}
	}

	srv.Publish(herhttp.Services{Store: storetest.Open(t, "sqlite")})
	res, body := get("/")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Eptura Workplace") || !strings.Contains(body, "All Systems Operational") {
		t.Errorf("GET / = %d: %.300s", res.StatusCode, body)
	}
	if res, body := get("/api/v2/status.json"); res.StatusCode != http.StatusOK ||
		!strings.Contains(body, `"url":"https://status.example.com"`) {
		t.Errorf("GET status.json = %d: %s", res.StatusCode, body)
	}
	if res, body := get("/incidents/nope"); res.StatusCode != http.StatusNotFound || !strings.Contains(body, "<!doctype html>") {
		t.Errorf("GET an unknown incident = %d: %.200s", res.StatusCode, body)
	}
}
