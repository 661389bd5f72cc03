package web_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// The public subscribe form takes only a token the server signed, and
// only in the form's body: a cookie and field pair of the client's own
// choosing is refused (the weakness of a plain double-submit cookie, which
// another site on the domain can plant), and so is a good token sent in
// the query string.
func TestPublicFormCSRF(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		base, _ := url.Parse(e.srv.URL)
		form := url.Values{"email": {"ann@example.com"}, "scope": {"all"}}

		// A pair the client chose, in both shapes a nonce could take.
		for _, chosen := range []string{"abc", base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef"))} {
			v := newVisitor(t, e)
			v.client.Jar.SetCookies(base, []*http.Cookie{{Name: "_csrf", Value: chosen}})
			if res, _ := v.post("/subscribe", withToken(form, chosen)); res.StatusCode != http.StatusForbidden {
				t.Errorf("cookie and field both %q = %d, want 403", chosen, res.StatusCode)
			}
		}

		// A good token, but in the query string.
		v := newVisitor(t, e)
		_, _, token := v.page("/subscribe")
		if token == "" {
			t.Fatal("no token on the form")
		}
		if res, _ := v.post("/subscribe?_csrf="+url.QueryEscape(token), form); res.StatusCode != http.StatusForbidden {
			t.Errorf("the token in the query string = %d, want 403", res.StatusCode)
		}
		// Another browser's token with this browser's cookie.
		other := newVisitor(t, e)
		_, _, otherToken := other.page("/subscribe")
		if res, _ := v.post("/subscribe", withToken(form, otherToken)); res.StatusCode != http.StatusForbidden {
			t.Errorf("another browser's token = %d, want 403", res.StatusCode)
		}
		// A cross-site browser request is refused whatever it carries.
		req, _ := http.NewRequest("POST", e.srv.URL+"/subscribe", strings.NewReader(url.Values{"_csrf": {token}, "email": {"x@example.com"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		res, err := v.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("a cross-site POST = %d, want 403", res.StatusCode)
		}
		// The form as served passes.
		if res, body := v.post("/subscribe", withToken(form, token)); res.StatusCode != http.StatusOK {
			t.Errorf("the form as served = %d %s", res.StatusCode, body)
		}
	})
}

// withToken returns form with _csrf set to token.
func withToken(form url.Values, token string) url.Values {
	f := url.Values{"_csrf": {token}}
	for k, vs := range form {
		f[k] = vs
	}
	return f
}
