package console

import (
	"context"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func TestSignIn(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			email, password := e.createUser(gateway.RoleSupport, "Ann Support")
			gone, gonePassword := e.createUser(gateway.RoleAdmin, "Gone Admin")
			if err := e.st.DisableUser(context.Background(), gone); err != nil {
				t.Fatal(err)
			}
			_, keySecret, err := e.st.CreateAPIKey(context.Background(), "oncall-bot", gateway.RoleViewer, "test")
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				name             string
				form             url.Values
				status           int
				who, role, actor string // on success
			}{
				{"password", url.Values{"email": {strings.ToUpper(email)}, "password": {password}}, 200, "Ann Support", "support", "Ann Support"},
				{"api key", url.Values{"api_key": {keySecret}}, 200, "oncall-bot", "viewer", "oncall-bot"},
				{"wrong password", url.Values{"email": {email}, "password": {password + "x"}}, 401, "", "", ""},
				{"unknown email", url.Values{"email": {"nobody@example.com"}, "password": {password}}, 401, "", "", ""},
				{"disabled user", url.Values{"email": {gone}, "password": {gonePassword}}, 401, "", "", ""},
				{"empty form", url.Values{}, 401, "", "", ""},
				{"wrong api key", url.Values{"api_key": {keySecret + "x"}}, 401, "", "", ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					c := e.newClient()
					res := c.submit("/console/login", "/console/login", tc.form)
					res.wantStatus(t, tc.status)
					if tc.status != http.StatusOK {
						res.wantContains(t, wrongCredentials) // the same words, whatever was wrong
						if res := c.get("/console"); res.url.Path != "/console/login" {
							t.Errorf("after a failed sign-in, /console went to %s, want the sign-in page", res.url)
						}
						return
					}
					if res.url.Path != "/console" {
						t.Errorf("landed on %s, want /console", res.url)
					}
					res.wantContains(t, `<span id="who-name">`+tc.who+`</span> <span class="role" id="who-role">`+tc.role+`</span>`)
					e.wantAudit(t, "console.sign_in", tc.actor)
				})
			}
		})
	}
}

// rawPost posts form to path without following redirects, so that the
// response's own headers (Set-Cookie, Location) can be checked.
func (c *client) rawPost(path string, form url.Values) *http.Response {
	c.e.t.Helper()
	noFollow := *c.http
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := noFollow.PostForm(c.e.srv.URL+path, form)
	if err != nil {
		c.e.t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func TestSessionCookie(t *testing.T) {
	for _, tc := range []struct {
		name, publicURL string
		secure          bool
	}{
		{"no public URL", "", false},
		{"http", "http://status.example.com", false},
		{"https", "https://status.example.com", true},
	} {
		// Subtest names stay free of '#' and '/': storetest's SQLite URL
		// is built from the test's temporary directory.
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, "sqlite", withOptions(func(o *Options) { o.PublicURL = tc.publicURL }))
			email, password := e.createUser(gateway.RoleViewer, "Val Viewer")
			c := e.newClient()
			res := c.rawPost("/console/login", url.Values{"_csrf": {c.csrf("/console/login")}, "email": {email}, "password": {password}})
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console" {
				t.Fatalf("sign-in answered %d to %q, want 303 to /console", res.StatusCode, res.Header.Get("Location"))
			}
			var session *http.Cookie
			for _, ck := range res.Cookies() {
				if ck.Name == SessionCookie {
					session = ck
				}
			}
			if session == nil {
				t.Fatal("no session cookie")
			}
			if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/console" || session.Secure != tc.secure {
				t.Errorf("cookie %s; want HttpOnly, SameSite=Lax, Path=/console, Secure=%v", session, tc.secure)
			}
			// Only the secret's hash is stored.
			if _, err := e.st.SessionByHash(context.Background(), session.Value); err == nil {
				t.Error("the cookie's secret is stored as is")
			}
			if _, err := e.st.SessionByHash(context.Background(), gateway.HashSecret(session.Value)); err != nil {
				t.Errorf("no session stored under the secret's hash: %v", err)
			}
		})
	}
}

func TestCSRFRefusal(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	c := e.signIn(gateway.RoleAdmin)
	for name, form := range map[string]url.Values{"no token": {}, "forged token": {"_csrf": {"forged"}}} {
		t.Run(name, func(t *testing.T) {
			res := c.post("/console/logout", form)
			res.wantStatus(t, http.StatusForbidden)
			res.wantContains(t, "did not come from the console")
			if res := c.get("/console"); res.status != http.StatusOK || res.url.Path != "/console" {
				t.Errorf("the refused logout ended the session: %d %s", res.status, res.url)
			}
		})
	}
	t.Run("sign-in", func(t *testing.T) {
		email, password := e.createUser(gateway.RoleViewer, "Val Viewer")
		res := e.newClient().post("/console/login", url.Values{"email": {email}, "password": {password}})
		res.wantStatus(t, http.StatusForbidden)
	})
}

func TestSessionExpiry(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			signedIn := func(c *client) bool {
				t.Helper()
				res := c.get("/console")
				return res.status == http.StatusOK && res.url.Path == "/console"
			}
			lastSeen := func(c *client) time.Time {
				t.Helper()
				for _, ck := range c.http.Jar.Cookies(mustURL(t, e.srv.URL+"/console")) {
					if ck.Name == SessionCookie {
						se, err := e.st.SessionByHash(context.Background(), gateway.HashSecret(ck.Value))
						if err != nil {
							t.Fatal(err)
						}
						return se.LastSeenAt
					}
				}
				t.Fatal("no session cookie")
				return time.Time{}
			}

			// Idle: 12 hours without a request ends it.
			c := e.signIn(gateway.RoleViewer)
			e.clock.Advance(12*time.Hour - time.Second)
			if !signedIn(c) {
				t.Fatal("signed out before the idle timeout")
			}
			e.clock.Advance(12*time.Hour - time.Second)
			if !signedIn(c) {
				t.Fatal("a request did not restart the idle timeout")
			}
			// last_seen_at is written at most once a minute.
			before := lastSeen(c)
			e.clock.Advance(30 * time.Second)
			signedIn(c)
			if got := lastSeen(c); !got.Equal(before) {
				t.Errorf("last_seen_at moved after 30 s: %v -> %v", before, got)
			}
			e.clock.Advance(12 * time.Hour)
			if signedIn(c) {
				t.Fatal("still signed in after 12 idle hours")
			}

			// Absolute: 7 days after sign-in, however busy.
			c = e.signIn(gateway.RoleSupport)
			for range 7*2 - 1 {
				e.clock.Advance(12*time.Hour - time.Minute)
				if !signedIn(c) {
					t.Fatal("signed out before 7 days")
				}
			}
			e.clock.Advance(12 * time.Hour)
			if signedIn(c) {
				t.Fatal("still signed in 7 days after sign-in")
			}
		})
	}
}

func TestLogoutAndDisable(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			c := e.signIn(gateway.RoleSupport)
			cookies := c.http.Jar.Cookies(mustURL(t, e.srv.URL+"/console"))
			res := c.submit("/console", "/console/logout", nil)
			res.wantStatus(t, http.StatusOK)
			if res.url.Path != "/console/login" {
				t.Errorf("after logout: %s, want the sign-in page", res.url)
			}
			res.wantContains(t, "You are signed out.")
			e.wantAudit(t, "console.sign_out", "Ann Support")
			// The old cookie, replayed, signs nobody in: its row is gone.
			replay := e.newClient()
			replay.http.Jar.SetCookies(mustURL(t, e.srv.URL+"/console"), cookies)
			if res := replay.get("/console"); res.url.Path != "/console/login" {
				t.Errorf("a logged-out session still works: %s", res.url)
			}

			// Disabling a user ends their sessions at once.
			v := e.signIn(gateway.RoleViewer)
			if err := e.st.DisableUser(context.Background(), "ann.viewer@example.com"); err != nil {
				t.Fatal(err)
			}
			if res := v.get("/console"); res.url.Path != "/console/login" {
				t.Errorf("a disabled user is still signed in: %s", res.url)
			}
		})
	}
}

// actScreen is a stand-in screen: a support action and an admin action,
// each audited and redirecting with a flash message, as real screens do.
func actScreen(h *Handler, r Router) {
	act := func(action string) echo.HandlerFunc {
		return func(c echo.Context) error {
			h.audit(c, action, "test", "1", nil)
			return h.redirect(c, Prefix, "Done: "+action+".")
		}
	}
	r.POST("/test/support", gateway.RoleSupport, act("test.support"))
	r.POST("/test/admin", gateway.RoleAdmin, act("test.admin"))
}

func TestRoles(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d, withScreen(actScreen))
			clients := map[gateway.Role]*client{}
			for _, r := range []gateway.Role{gateway.RoleViewer, gateway.RoleSupport, gateway.RoleAdmin} {
				clients[r] = e.signIn(r)
			}
			for _, tc := range []struct {
				role   gateway.Role
				action string
				status int
			}{
				{gateway.RoleViewer, "support", http.StatusForbidden},
				{gateway.RoleViewer, "admin", http.StatusForbidden},
				{gateway.RoleSupport, "support", http.StatusOK},
				{gateway.RoleSupport, "admin", http.StatusForbidden},
				{gateway.RoleAdmin, "support", http.StatusOK},
				{gateway.RoleAdmin, "admin", http.StatusOK},
			} {
				t.Run(string(tc.role)+" "+tc.action, func(t *testing.T) {
					c := clients[tc.role]
					res := c.submit("/console", "/console/test/"+tc.action, nil)
					res.wantStatus(t, tc.status)
					if tc.status == http.StatusForbidden {
						res.wantContains(t, "it needs "+tc.action)
						return
					}
					res.wantContains(t, "Done: test."+tc.action+".") // the flash, after the redirect
					e.wantAudit(t, "test."+tc.action, c.name)
					if again := c.get("/console"); strings.Contains(again.body, "Done:") {
						t.Error("the flash message showed twice")
					}
				})
			}
			// Signed out, an action goes to the sign-in page.
			res := e.newClient().post("/console/test/support", url.Values{})
			if res.status == http.StatusOK && res.url.Path != "/console/login" {
				t.Errorf("an anonymous POST ended at %s", res.url)
			}
		})
	}
}

func TestSignInRateLimits(t *testing.T) {
	var mu sync.Mutex
	outcomes := map[string]int{} // the metric's counts
	e := newTestEnv(t, "sqlite", withOptions(func(o *Options) {
		o.LoginPerIP = Limit{Burst: 5, Every: time.Minute}
		o.LoginPerAccount = Limit{Burst: 2, Every: 30 * time.Second}
		o.SignIn = func(outcome string) { mu.Lock(); outcomes[outcome]++; mu.Unlock() }
	}))
	ann, annPassword := e.createUser(gateway.RoleSupport, "Ann Support")
	bob, _ := e.createUser(gateway.RoleSupport, "Bob Support")
	c := e.newClient()
	try := func(email, password string, want int) response {
		t.Helper()
		res := c.submit("/console/login", "/console/login", url.Values{"email": {email}, "password": {password}})
		if res.status != want {
			t.Fatalf("sign in as %s: %d, want %d", email, res.status, want)
		}
		return res
	}
	// Per account: two tries, then ann's account waits 30 s; bob's does not.
	try(ann, "wrong", http.StatusUnauthorized)
	try(ann, "wrong", http.StatusUnauthorized)
	res := try(ann, annPassword, http.StatusTooManyRequests)
	if res.header.Get("Retry-After") != "30" {
		t.Errorf("Retry-After = %q, want 30", res.header.Get("Retry-After"))
	}
	res.wantContains(t, "Too many sign-in attempts. Please wait 30 seconds")
	try(bob, "wrong", http.StatusUnauthorized)
	e.clock.Advance(30 * time.Second)
	try(ann, annPassword, http.StatusOK)

	// Per IP: five tries a minute whatever the account. Five are spent
	// (a refused try still costs the IP one), half a token came back in
	// the 30 s, so carol's account, fresh, waits for the IP's other half.
	c = e.newClient()
	res = try("carol@example.com", "x", http.StatusTooManyRequests)
	if res.header.Get("Retry-After") != "30" {
		t.Errorf("Retry-After = %q, want 30", res.header.Get("Retry-After"))
	}
	e.clock.Advance(30 * time.Second)
	try("carol@example.com", "x", http.StatusUnauthorized)
	mu.Lock()
	defer mu.Unlock()
	if want := map[string]int{"ok": 1, "failed": 4, "limited": 2}; !maps.Equal(outcomes, want) {
		t.Errorf("sign-in outcomes %v, want %v", outcomes, want)
	}
}

func TestNextAfterSignIn(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	email, password := e.createUser(gateway.RoleViewer, "Val Viewer")
	c := e.newClient()
	res := c.get("/console?tab=open")
	if res.url.Path != "/console/login" || res.url.Query().Get("next") != "/console?tab=open" {
		t.Fatalf("a signed-out page went to %s", res.url)
	}
	res = c.submit(res.url.RequestURI(), "/console/login", url.Values{"email": {email}, "password": {password}, "next": {"/console?tab=open"}})
	if res.url.RequestURI() != "/console?tab=open" {
		t.Errorf("after sign-in: %s, want /console?tab=open", res.url)
	}
	for _, tc := range []struct{ next, want string }{
		{"/console/incidents/1", "/console/incidents/1"},
		{"/console", "/console"},
		{"//evil.example/console", ""},
		{"https://evil.example/console", ""},
		{"/consolex", ""},
		{"/console/login", ""},
		{"/console\\evil", ""},
	} {
		if got := safeNext(tc.next); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.next, got, tc.want)
		}
	}
}

func TestUnavailableUntilTheStoreIsReady(t *testing.T) {
	e := newTestEnv(t, "sqlite", withOptions(func(o *Options) { o.Store = nil }))
	res := e.newClient().get("/console")
	res.wantStatus(t, http.StatusServiceUnavailable)
	if res.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	res.wantContains(t, "not ready yet")
}

func TestPasswords(t *testing.T) {
	h := HashPassword("correct horse battery staple")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q lacks the parameters", h)
	}
	if h == HashPassword("correct horse battery staple") {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, tc := range []struct {
		password, hash string
		want           bool
	}{
		{"correct horse battery staple", h, true},
		{"correct horse battery stapl", h, false},
		{"", h, false},
		{"correct horse battery staple", "", false},
		{"correct horse battery staple", strings.Replace(h, "argon2id", "argon2i", 1), false},
		{"correct horse battery staple", strings.Replace(h, "t=2", "t=999", 1), false},
		{"correct horse battery staple", h[:len(h)-4], false},
	} {
		if got := VerifyPassword(tc.password, tc.hash); got != tc.want {
			t.Errorf("VerifyPassword(%q, %q) = %v", tc.password, tc.hash, got)
		}
	}
	if p := GeneratePassword(); len(p) < MinPasswordLength {
		t.Errorf("generated %q, shorter than %d", p, MinPasswordLength)
	}
}

// A POST form without the CSRF field is a render error, not a page.
func TestFormWithoutCSRFIsARenderError(t *testing.T) {
	ps := &pageSet{pages: map[string]*template.Template{
		"bad":  template.Must(template.New("bad").Parse(`{{define "layout"}}<form method="post" action="/x"><button>Go</button></form>{{end}}`)),
		"good": template.Must(template.New("good").Parse(`{{define "layout"}}<form method="post" action="/x"><input type="hidden" name="_csrf" value="t"></form><form method="get"></form>{{end}}`)),
	}}
	if _, err := ps.execute("bad", View{}); err == nil || !strings.Contains(err.Error(), "csrf") {
		t.Errorf("bad form rendered: %v", err)
	}
	if _, err := ps.execute("good", View{}); err != nil {
		t.Error(err)
	}
}

// The nav links to screens not written yet answer the console's own 404
// page, in the layout, signed in; the nav marks where the person is.
func TestUnwrittenScreensAreConsole404s(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	c := e.signIn(gateway.RoleViewer)
	res := c.get("/console/incidents/x/no-such-page")
	res.wantStatus(t, http.StatusNotFound)
	res.wantContains(t, `<a href="/console/incidents" aria-current="page">Incidents</a>`)
	res.wantContains(t, "There is no such page.")
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q", ct)
	}
	if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if res := c.get("/console/logout"); res.status != http.StatusNotFound { // a POST-only route, fetched
		t.Errorf("GET /console/logout: %d, want 404", res.status)
	}
	if res := e.newClient().get("/console/incidents/x/no-such-page"); res.url.Path != "/console/login" {
		t.Errorf("signed out, an unknown page went to %s, want the sign-in page", res.url)
	}
}
