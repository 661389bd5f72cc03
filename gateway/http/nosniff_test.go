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

// Every answer, whatever serves it and whatever its status, says
// X-Content-Type-Options: nosniff, so that no browser runs a body as
// another type than the one declared.
func TestEveryAnswerSaysNoSniff(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		for _, tc := range []struct {
			method, path string
			role         gateway.Role
		}{
			{"GET", "/", ""}, {"GET", "/history", ""}, {"GET", "/history.rss", ""}, {"GET", "/history.atom", ""},
			{"GET", "/api/v2/summary.json", ""}, {"GET", "/assets/style.css", ""}, {"GET", "/subscribe", ""},
			{"GET", "/unsubscribe/x.y.z", ""}, {"GET", "/api/v1/components", gateway.RoleViewer},
			{"GET", "/api/v1/components", ""}, {"POST", "/ingest/nope", ""}, {"GET", "/console/login", ""},
			{"GET", "/console/static/console.css", ""}, {"GET", "/console", ""}, {"GET", "/healthz", ""},
			{"GET", "/readyz", ""}, {"GET", "/metrics", ""}, {"GET", "/no/such/page", ""}, {"HEAD", "/", ""},
		} {
			req, _ := http.NewRequest(tc.method, e.url+tc.path, strings.NewReader(""))
			if tc.role != "" {
				req.Header.Set("Authorization", "Bearer "+e.keys[tc.role])
			}
			res, err := http.DefaultTransport.RoundTrip(req) // no redirects followed: the first answer counts
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%s %s (%d): X-Content-Type-Options %q, want nosniff", tc.method, tc.path, res.StatusCode, got)
			}
		}
	})
}
