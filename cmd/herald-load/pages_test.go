package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPagesLoadsHeraldAndTheCeiling runs the pages mode against a stand-in
// for Herald: every path is loaded on both targets, the ratio is printed,
// and the static server answers with the bytes and content headers the
// stand-in gave, gzip included when the request asked for it.
func TestPagesLoadsHeraldAndTheCeiling(t *testing.T) {
	page := strings.Repeat("<p>all systems operational</p>", 100)
	herald := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("ETag", `"v1"`)
			if r.Header.Get("Accept-Encoding") == "gzip" {
				w.Header().Set("Content-Encoding", "gzip")
				_, _ = io.WriteString(w, "not really gzip")
				return
			}
			_, _ = io.WriteString(w, page)
		case "/api/v2/summary.json":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"status":{"indicator":"none"}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer herald.Close()

	for _, tc := range []struct {
		name    string
		headers http.Header
		want    string // what the ceiling serves for /
		enc     string
	}{
		{"plain", http.Header{}, page, ""},
		{"gzip", http.Header{"Accept-Encoding": {"gzip"}}, "not really gzip", "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
			static, err := newStaticServer(ctx, client, herald.URL, []string{"/", "/api/v2/summary.json"}, tc.headers)
			if err != nil {
				t.Fatal(err)
			}
			defer static.close()
			req, _ := http.NewRequest("GET", static.url+"/", nil)
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if got := string(body); got != tc.want {
				t.Errorf("ceiling / = %.40q…, want %.40q…", got, tc.want)
			}
			for k, want := range map[string]string{"Content-Type": "text/html; charset=utf-8", "ETag": `"v1"`, "Content-Encoding": tc.enc} {
				if got := res.Header.Get(k); got != want {
					t.Errorf("ceiling %s = %q, want %q", k, got, want)
				}
			}

			var out bytes.Buffer
			c := pagesConfig{url: herald.URL, paths: pathList{"/", "/api/v2/summary.json"}, headers: tc.headers,
				concurrency: 2, duration: 200 * time.Millisecond, ceiling: true, rounds: 2}
			if err := runPages(ctx, c, &out); err != nil {
				t.Fatalf("runPages: %v\n%s", err, &out)
			}
			for _, re := range []string{
				`(?m)^herald  / +\d+ ok +0 failed`, `(?m)^ceiling / +\d+ ok +0 failed`,
				`(?m)^/ +herald \d+ req/s, ceiling \d+ req/s: \d+ % of a static server$`,
				`(?m)^/api/v2/summary\.json +herald \d+ req/s, ceiling \d+ req/s: \d+ % of a static server$`,
			} {
				if !regexp.MustCompile(re).MatchString(out.String()) {
					t.Errorf("output lacks %s:\n%s", re, &out)
				}
			}
		})
	}
}

// TestPagesFailsWithoutAPage: a path that never answers 200 is an error,
// not a fast figure.
func TestPagesFailsWithoutAPage(t *testing.T) {
	herald := httptest.NewServer(http.NotFoundHandler())
	defer herald.Close()
	c := pagesConfig{url: herald.URL, paths: pathList{"/missing"}, headers: http.Header{},
		concurrency: 1, duration: 50 * time.Millisecond, rounds: 1}
	var out bytes.Buffer
	if err := runPages(context.Background(), c, &out); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Errorf("runPages = %v, want an error naming status 404\n%s", err, &out)
	}
	c.ceiling = true
	if err := runPages(context.Background(), c, &out); err == nil {
		t.Error("runPages -ceiling of a 404 = nil, want an error")
	}
}
