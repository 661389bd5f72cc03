package console

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/heraldstatus/herald/gateway"
)

// TestSignInBruteForceWithTheDefaults hammers /console/login with the
// limits `herald serve` runs with (Options left at their defaults), as an
// attacker would: guessing one account's password, then guessing API keys
// (which only the per-IP limit guards). Both end in 429 with Retry-After,
// and a right password during the lock-out is refused too, so a guesser
// learns nothing. TestSignInRateLimits checks the exact arithmetic of the
// buckets with small limits.
func TestSignInBruteForceWithTheDefaults(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	ann, annPassword := e.createUser(gateway.RoleSupport, "Ann Support")
	c := e.newClient()
	hammer := func(what string, form url.Values, bound int) response {
		t.Helper()
		for i := range bound {
			res := c.submit("/console/login", "/console/login", form)
			switch res.status {
			case http.StatusUnauthorized:
				continue
			case http.StatusTooManyRequests:
				if secs, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || secs < 1 {
					t.Errorf("%s: 429 with Retry-After %q", what, res.header.Get("Retry-After"))
				}
				t.Logf("%s: 429 after %d failures", what, i)
				return res
			default:
				t.Fatalf("%s: guess %d = %d", what, i+1, res.status)
			}
		}
		t.Fatalf("%s: %d guesses and never a 429", what, bound)
		return response{}
	}
	hammer("password guessing", url.Values{"email": {ann}, "password": {"wrong"}}, 50)
	res := c.submit("/console/login", "/console/login", url.Values{"email": {ann}, "password": {annPassword}})
	if res.status != http.StatusTooManyRequests {
		t.Errorf("the right password during the lock-out = %d, want 429", res.status)
	}
	hammer("API key guessing", url.Values{"api_key": {"hkey_guess"}}, 50)
}
