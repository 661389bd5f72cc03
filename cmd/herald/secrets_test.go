package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/internal/mailsink"
)

// TestNoSecretInTheLog runs `herald serve` at debug level through what
// hands out or takes a secret: API calls with admin, support and viewer
// keys, ingest with a source token in the header and in ?token=, the
// console's sign-in with a key, a subscription confirmed, managed and
// left by its links, and webhook deliveries that fail (one to a URL that
// refuses connections, one to a receiver that echoes its URL back). Then
// it looks for every one of those secrets in the whole log, and checks
// that a viewer and support see the webhooks' URLs in the deliveries as
// scheme://host/… only.
func TestNoSecretInTheLog(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			dbURL := storetest.URL(t, d)
			st := openMigrated(t, dbURL)
			ctx := context.Background()
			_, support, err := st.CreateAPIKey(ctx, "support-key", gateway.RoleSupport, "test")
			if err != nil {
				t.Fatal(err)
			}
			_, viewer, err := st.CreateAPIKey(ctx, "viewer-key", gateway.RoleViewer, "test")
			if err != nil {
				t.Fatal(err)
			}
			sink := mailsink.Start(t, mailsink.Options{})
			const admin = "hrld_secret_admin_token_0123456789"
			in := start(t, map[string]string{"HERALD_DATABASE_URL": dbURL, "HERALD_ADMIN_TOKEN": admin,
				"HERALD_SMTP_URL": sink.URL(), "HERALD_LOG_LEVEL": "debug", "HERALD_ALLOW_PRIVATE_TARGETS": "true"})
			in.waitReady(200, 30*time.Second)
			call := func(method, path, key, body string, want int) string {
				t.Helper()
				code, out := in.call(method, path, key, body)
				if code != want {
					t.Fatalf("%s %s = %d %s, want %d", method, path, code, out, want)
				}
				return out
			}
			secrets := map[string]string{"admin key": admin, "support key": support, "viewer key": viewer}

			// Ingest, with the token in the header and in the query.
			var src struct{ Token string }
			if err := json.Unmarshal([]byte(call("POST", "/api/v1/sources", admin, `{"name":"prom","kind":"generic"}`, 201)), &src); err != nil {
				t.Fatal(err)
			}
			secrets["source token"] = src.Token
			call("POST", "/ingest/prom", src.Token, `{"status":"firing","summary":"disk full"}`, 202)
			call("POST", "/ingest/prom?token="+url.QueryEscape(src.Token), "", `{"status":"firing","summary":"disk full"}`, 202)
			call("POST", "/ingest/prom", "hsrc_"+strings.Repeat("x", 32), `{}`, 401)

			// Webhooks whose URLs are their secrets: one refuses
			// connections, one answers 404 echoing its URL.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			refused := "http://" + ln.Addr().String() + "/hooks/T0REFUSEDPATH/B0?token=REFUSEDQUERY"
			ln.Close()
			echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprintf(w, "no hook at http://%s%s", r.Host, r.URL.RequestURI())
			}))
			t.Cleanup(echo.Close)
			echoURL := echo.URL + "/services/T0ECHOPATH/B0/ECHOSECRET"
			secrets["refused webhook path"], secrets["refused webhook query"] = "T0REFUSEDPATH", "REFUSEDQUERY"
			secrets["echoing webhook path"] = "T0ECHOPATH"
			for _, u := range []string{refused, echoURL} {
				var hook struct{ Secret string }
				body := fmt.Sprintf(`{"url":%q,"confirmed":true,"consent_source":"test"}`, u)
				if err := json.Unmarshal([]byte(call("POST", "/api/v1/subscribers", admin, body, 201)), &hook); err != nil {
					t.Fatal(err)
				}
				secrets["webhook signing secret "+u] = hook.Secret
			}

			// A subscription, confirmed, managed and left by its links.
			call("POST", "/subscribe", "", `{"email":"ann@example.com"}`, 202)
			confirm := mailToken(t, sink, "ann@example.com", "/subscribe/confirm/")
			secrets["confirm token"] = confirm
			page(t, in.url+"/subscribe/confirm/"+confirm, "GET", 200)

			call("POST", "/api/v1/components", admin, `{"name":"API"}`, 201)
			call("POST", "/api/v1/incidents", support, `{"name":"API down","status":"investigating","body":"Looking.","components":{"API":"major_outage"}}`, 201)
			manage := mailToken(t, sink, "ann@example.com", "/subscriptions/")
			unsubscribe := mailToken(t, sink, "ann@example.com", "/unsubscribe/")
			secrets["manage token"], secrets["unsubscribe token"] = manage, unsubscribe
			page(t, in.url+"/subscriptions/"+manage, "GET", 200)
			page(t, in.url+"/unsubscribe/"+unsubscribe, "GET", 200)
			page(t, in.url+"/unsubscribe/"+unsubscribe+"/mangled", "GET", 0) // nor is a mangled link

			// The console, signed in with the support key.
			jar, _ := cookiejar.New(nil)
			browser := &http.Client{Jar: jar}
			res, err := browser.Get(in.url + "/console/login")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(b)
			if m == nil {
				t.Fatalf("no CSRF field on the sign-in page:\n%s", b)
			}
			res, err = browser.PostForm(in.url+"/console/login", url.Values{"_csrf": {string(m[1])}, "api_key": {support}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			consoleURL, _ := url.Parse(in.url + "/console")
			for _, ck := range jar.Cookies(consoleURL) {
				if ck.Name == "herald_session" {
					secrets["console session"] = ck.Value
				}
			}
			if secrets["console session"] == "" {
				t.Fatalf("signing in with a key gave no session (%d)", res.StatusCode)
			}

			// Both webhook deliveries have failed at least once.
			deliveries := ""
			waitFor(t, time.Minute, func() bool {
				deliveries = call("GET", "/api/v1/deliveries?status=retrying", admin, "", 200) +
					call("GET", "/api/v1/deliveries?status=dead", admin, "", 200)
				return strings.Count(deliveries, `"last_error":"webhook`) >= 2
			}, "two failed webhook deliveries:\n%s", deliveries)
			for _, key := range []string{viewer, support} {
				got := call("GET", "/api/v1/deliveries?status=retrying", key, "", 200) + call("GET", "/api/v1/deliveries?status=dead", key, "", 200)
				if !strings.Contains(got, "http://"+ln.Addr().String()+"/…") {
					t.Errorf("deliveries do not show the refused webhook as scheme://host/…:\n%s", got)
				}
				for _, s := range []string{"T0REFUSEDPATH", "REFUSEDQUERY", "T0ECHOPATH", "ECHOSECRET"} {
					if strings.Contains(got, s) {
						t.Errorf("a non-admin reads %s in the deliveries:\n%s", s, got)
					}
				}
			}
			if err := in.stop(); err != nil {
				t.Errorf("stop: %v", err)
			}
			logs := in.logs.String()
			for what, s := range secrets {
				if s == "" {
					t.Errorf("the scenario did not use its %s", what)
					continue
				}
				if strings.Contains(logs, s) {
					t.Errorf("the log holds the %s %q", what, s)
				}
			}
			if !strings.Contains(logs, `path=/unsubscribe/…`) {
				t.Errorf("the access log does not show the unsubscribe page redacted:\n%s", logs)
			}
		})
	}
}

// page fetches (or posts to) a public page and checks its status (0:
// any).
func page(t *testing.T, u, method string, want int) {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if want != 0 && res.StatusCode != want {
		t.Fatalf("%s %s = %d, want %d", method, u, res.StatusCode, want)
	}
}

// mailToken waits for a message to rcpt holding a link under prefix and
// returns the link's token.
func mailToken(t *testing.T, sink *mailsink.Sink, rcpt, prefix string) string {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(prefix) + `([A-Za-z0-9._-]+)`)
	token := ""
	waitFor(t, 30*time.Second, func() bool {
		for _, m := range sink.Messages() {
			if len(m.To) == 1 && m.To[0] == rcpt {
				flat := strings.NewReplacer("=\r\n", "", "=\n", "").Replace(string(m.Data))
				if sm := re.FindStringSubmatch(flat); sm != nil {
					token = sm[1]
					return true
				}
			}
		}
		return false
	}, "a message to %s with a %s link", rcpt, prefix)
	return token
}
