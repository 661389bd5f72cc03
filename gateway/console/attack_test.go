package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

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

// TestSignInGuessingCannotLockOutTheOwner: an attacker guessing a
// support account's password from one network (with the defaults `herald
// serve` runs with) is slowed down more and more, and refused even the
// right password from anywhere in that network (an IPv6 /64), but the
// account's owner signs in from another network at once, IPv4 and IPv6.
func TestSignInGuessingCannotLockOutTheOwner(t *testing.T) {
	for _, tc := range []struct{ name, attacker, neighbour, owner string }{
		{"ipv4", "203.0.113.5", "203.0.113.5", "198.51.100.7"},
		{"ipv6", "2001:db8:1:2::a", "2001:db8:1:2:ffff::b", "2001:db8:9:9::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, "sqlite")
			ann, annPassword := e.createUser(gateway.RoleSupport, "Ann Support")
			attacker := e.newClient()
			attacker.from = tc.attacker
			guess := func(want int) response {
				t.Helper()
				res := attacker.submit("/console/login", "/console/login", url.Values{"email": {ann}, "password": {"wrong"}})
				if res.status != want {
					t.Fatalf("guess = %d, want %d", res.status, want)
				}
				return res
			}
			for range 10 {
				guess(http.StatusUnauthorized)
			}
			// The delay doubles with each guess past the burst.
			for _, wait := range []int{30, 60, 120} {
				res := guess(http.StatusTooManyRequests)
				if got := res.header.Get("Retry-After"); got != strconv.Itoa(wait) {
					t.Errorf("Retry-After = %s, want %d", got, wait)
				}
				e.clock.Advance(time.Duration(wait) * time.Second)
				guess(http.StatusUnauthorized)
			}
			neighbour := e.newClient()
			neighbour.from = tc.neighbour
			if res := neighbour.submit("/console/login", "/console/login", url.Values{"email": {ann}, "password": {annPassword}}); res.status != http.StatusTooManyRequests {
				t.Errorf("the right password from the guessing network = %d, want 429", res.status)
			}
			owner := e.newClient()
			owner.from = tc.owner
			res := owner.submit("/console/login", "/console/login", url.Values{"email": {ann}, "password": {annPassword}})
			if res.status != http.StatusOK || !strings.Contains(res.body, "Ann Support") {
				t.Errorf("the owner from another network = %d, want signed in:\n%s", res.status, res.body)
			}
		})
	}
}

// TestCSRFTokenIsBoundToTheSession: a console form's token is worth
// nothing in another session, even with the nonce cookie it was made
// for; a client cannot choose its own cookie and field pair; and a good
// token is not taken from the query string.
func TestCSRFTokenIsBoundToTheSession(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	ann := e.signIn(gateway.RoleSupport)
	annToken := ann.csrf("/console")
	base, _ := url.Parse(e.srv.URL + "/console")
	var annNonce *http.Cookie
	for _, ck := range ann.http.Jar.Cookies(base) {
		if ck.Name == "herald_csrf" {
			annNonce = ck
		}
	}
	if annNonce == nil {
		t.Fatal("no herald_csrf cookie")
	}
	mallory := e.signIn(gateway.RoleViewer)
	mallory.http.Jar.SetCookies(base, []*http.Cookie{{Name: "herald_csrf", Value: annNonce.Value, Path: "/console"}})
	if res := mallory.post("/console/logout", url.Values{"_csrf": {annToken}}); res.status != http.StatusForbidden {
		t.Errorf("another session's token with its nonce = %d, want 403", res.status)
	}
	chosen := "MDEyMzQ1Njc4OWFiY2RlZg" // a well-formed nonce of the client's choosing
	mallory.http.Jar.SetCookies(base, []*http.Cookie{{Name: "herald_csrf", Value: chosen, Path: "/console"}})
	if res := mallory.post("/console/logout", url.Values{"_csrf": {chosen}}); res.status != http.StatusForbidden {
		t.Errorf("a chosen cookie and field pair = %d, want 403", res.status)
	}
	token := ann.csrf("/console")
	if res := ann.post("/console/logout?_csrf="+url.QueryEscape(token), url.Values{}); res.status != http.StatusForbidden {
		t.Errorf("the token in the query string = %d, want 403", res.status)
	}
	if res := ann.post("/console/logout", url.Values{"_csrf": {token}}); res.status != http.StatusOK || res.url.Path != "/console/login" {
		t.Errorf("the session's own token = %d at %s, want signed out", res.status, res.url)
	}
}
