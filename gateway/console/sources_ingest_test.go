package console_test

// The sources screen inside the whole HTTP server, as `herald serve`
// mounts it: a token made in the console is the one /ingest accepts, a
// rotation in the console makes /ingest refuse the old one, and the
// alerts it then receives are the screen's "last alert".

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/console"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

var (
	csrfRE   = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	tokenRE  = regexp.MustCompile(`id="token" value="(hsrc_[^"]+)"`)
	rotateRE = regexp.MustCompile(`href="/console/sources/([^/"]+)/rotate"`)
)

type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (b *browser) do(method, path string, form url.Values, header ...string) (int, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(out)
}

// submit opens page and posts form to action with the page's CSRF token.
func (b *browser) submit(page, action string, form url.Values) (int, string) {
	b.t.Helper()
	_, body := b.do("GET", page, nil)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("no CSRF token on %s:\n%s", page, body)
	}
	form.Set("_csrf", m[1])
	return b.do("POST", action, form)
}

func (b *browser) ingest(source, token, body string) int {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+"/ingest/"+source, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestSourceTokenFromTheConsoleAtIngest(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		srv := herhttp.New(herhttp.Options{Log: storetest.Logger(t)})
		srv.Publish(herhttp.Services{Store: st})
		ts := httptest.NewServer(srv.Handler())
		t.Cleanup(ts.Close)
		password := console.GeneratePassword()
		if err := st.CreateUser(context.Background(), &store.User{Email: "ops@example.com", Name: "Olu Admin",
			Role: gateway.RoleAdmin, PasswordHash: console.HashPassword(password)}); err != nil {
			t.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		b := &browser{t: t, base: ts.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
		if status, body := b.submit("/console/login", "/console/login", url.Values{"email": {"ops@example.com"}, "password": {password}}); status != 200 || !strings.Contains(body, "Olu Admin") {
			t.Fatalf("sign in: %d\n%s", status, body)
		}

		status, body := b.submit("/console/sources", "/console/sources", url.Values{"name": {"scripts"}, "kind": {"generic"}})
		m := tokenRE.FindStringSubmatch(body)
		if status != http.StatusCreated || m == nil {
			t.Fatalf("create: %d\n%s", status, body)
		}
		first := m[1]
		if got := b.ingest("scripts", first, `{"status":"firing","summary":"backup of db-1 failed"}`); got != http.StatusAccepted {
			t.Fatalf("ingest with the console's token = %d", got)
		}

		_, list := b.do("GET", "/console/sources", nil)
		for _, w := range []string{"backup of db-1 failed", ">firing<", "1 (1 firing)", "/ingest/scripts"} {
			if !strings.Contains(list, w) {
				t.Errorf("sources page lacks %q:\n%s", w, list)
			}
		}
		id := rotateRE.FindStringSubmatch(list)
		if id == nil {
			t.Fatalf("no rotate link:\n%s", list)
		}
		rotate := "/console/sources/" + id[1] + "/rotate"
		status, body = b.submit(rotate, rotate, url.Values{})
		m = tokenRE.FindStringSubmatch(body)
		if status != http.StatusOK || m == nil || m[1] == first {
			t.Fatalf("rotate: %d\n%s", status, body)
		}
		if got := b.ingest("scripts", first, `{"status":"resolved","summary":"backup of db-1 failed"}`); got != http.StatusUnauthorized {
			t.Errorf("old token after rotation = %d, want 401", got)
		}
		if got := b.ingest("scripts", m[1], `{"status":"resolved","summary":"backup of db-1 failed"}`); got != http.StatusAccepted {
			t.Errorf("new token = %d, want 202", got)
		}
		if _, list = b.do("GET", "/console/sources", nil); !strings.Contains(list, "1 (0 firing)") || !strings.Contains(list, ">resolved<") {
			t.Errorf("after the resolve, the sources page:\n%s", list)
		}
	})
}
