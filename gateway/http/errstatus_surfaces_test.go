package http_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestSurfacesShareOneStatusMapping: the public pages and the console map
// errors with errstatus as the API does, through the full server: a form
// posted without its CSRF token is the 403 Herald's CSRF check declares
// (EFORBIDDEN), not the 400 of the Echo error it wraps.
func TestSurfacesShareOneStatusMapping(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := withSubscribers(t, newEnv(t, st, herhttp.Options{}), st)
		for _, path := range []string{"/subscribe", "/console/login"} {
			form := url.Values{"email": {"someone@example.com"}, "password": {"x"}, "scope": {"all"}}.Encode()
			res, err := http.Post(e.url+path, "application/x-www-form-urlencoded", strings.NewReader(form))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s without a CSRF token = %d, want 403:\n%.300s", path, res.StatusCode, b)
			}
		}
	})
}
