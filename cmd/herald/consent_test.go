package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/internal/mailsink"
)

// call sends a request with an API key ("" for none) and returns the
// status and body: a body is JSON unless header (name, value pairs) says
// otherwise.
func (in *instance) call(method, path, key, body string, header ...string) (int, string) {
	in.t.Helper()
	req, _ := http.NewRequest(method, in.url+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// idOf takes "id" out of a JSON object.
func idOf(t *testing.T, body string) string {
	t.Helper()
	var v struct{ ID string }
	if err := json.Unmarshal([]byte(body), &v); err != nil || v.ID == "" {
		t.Fatalf("no id in %s", body)
	}
	return v.ID
}

// Every staff path that could turn a person who left (or never
// confirmed) into an active subscriber, through a running herald: the API
// as support and as admin, the admin CSV import, the CLI import, and a
// fresh confirmation. Each refusal is a 409 naming its rule and is in the
// audit log; the next broadcast reaches only the person who stayed, as
// counted at the SMTP sink.
func TestNextBroadcastDoesNotReachWhoLeft(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			sink := mailsink.Start(t, mailsink.Options{})
			const admin = "consent-admin-token-0123456789abcdef"
			vars := map[string]string{"HERALD_DATABASE_URL": storetest.URL(t, d), "HERALD_SMTP_URL": sink.URL(), "HERALD_ADMIN_TOKEN": admin}
			in := start(t, vars)
			in.waitReady(200, 30*time.Second)

			code, body := in.call("POST", "/api/v1/apikeys", admin, `{"name":"support desk","role":"support"}`)
			var k struct{ Key string }
			if code != 201 || json.Unmarshal([]byte(body), &k) != nil || k.Key == "" {
				t.Fatalf("create a support key: %d %s", code, body)
			}
			support := k.Key
			add := func(key, body string) string {
				t.Helper()
				code, out := in.call("POST", "/api/v1/subscribers", key, body)
				if code != 201 {
					t.Fatalf("subscribe %s: %d %s", body, code, out)
				}
				return idOf(t, out)
			}
			stay := add(admin, `{"email":"stay@example.com","confirmed":true,"consent_source":"signed order form"}`)
			left := add(admin, `{"email":"left@example.com","confirmed":true,"consent_source":"signed order form"}`)
			never := add(support, `{"email":"never@example.com"}`)
			if code, out := in.call("PATCH", "/api/v1/subscribers/"+left, support, `{"status":"unsubscribed"}`); code != 200 {
				t.Fatalf("unsubscribe: %d %s", code, out)
			}

			for _, tc := range []struct {
				name, method, path, key, body, rule string
			}{
				{"support activates who left", "PATCH", "/api/v1/subscribers/" + left, support, `{"status":"active"}`, "suppressed"},
				{"admin activates who left", "PATCH", "/api/v1/subscribers/" + left, admin, `{"status":"active","consent_source":"phone call"}`, "suppressed"},
				{"support activates who never confirmed", "PATCH", "/api/v1/subscribers/" + never, support, `{"status":"active","consent_source":"phone call"}`, "never_confirmed"},
				{"admin subscribes who left as confirmed", "POST", "/api/v1/subscribers", admin, `{"email":"left@example.com","confirmed":true,"consent_source":"CRM"}`, "suppressed"},
				{"admin subscribes who never confirmed as confirmed", "POST", "/api/v1/subscribers", admin, `{"email":"never@example.com","confirmed":true,"consent_source":"CRM"}`, "never_confirmed"},
			} {
				code, out := in.call(tc.method, tc.path, tc.key, tc.body)
				if code != 409 || !strings.Contains(out, `"conflict"`) || !strings.Contains(out, `consent rule \"`+tc.rule+`\"`) {
					t.Errorf("%s: %d %s; want 409 naming the rule %s", tc.name, code, out, tc.rule)
				}
			}

			// The admin CSV import and the CLI import of confirmed rows.
			code, out := in.call("POST", "/api/v1/subscribers/import?confirmed=true&consent_source=CRM", admin, "email\nleft@example.com\nnever@example.com\n",
				"Content-Type", "text/csv")
			if code != 200 || !strings.Contains(out, `"suppressed":1`) || !strings.Contains(out, `"existing":1`) {
				t.Errorf("API import: %d %s", code, out)
			}
			csv := filepath.Join(t.TempDir(), "crm.csv")
			if err := os.WriteFile(csv, []byte("email,components,confirmed\nleft@example.com,,true\nnever@example.com,,true\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cli, err := run(t, vars, "subscribers", "import", csv, "--consent-source", "CRM")
			if err != nil || !strings.Contains(cli, "0 added, 1 already subscribed, 1 suppressed") {
				t.Errorf("CLI import = %q, %v", cli, err)
			}

			// A fresh confirmation is allowed; it activates no one.
			code, out = in.call("POST", "/api/v1/subscribers/"+left+"/reconfirm", support, "")
			if code != 202 || !strings.Contains(out, `"status":"pending"`) {
				t.Errorf("reconfirm: %d %s", code, out)
			}
			if code, out := in.call("POST", "/api/v1/subscribers/"+left+"/reconfirm", support, ""); code != 429 {
				t.Errorf("a second reconfirm at once: %d %s, want 429", code, out)
			}

			code, out = in.call("POST", "/api/v1/broadcasts", support, `{"subject":"After the refusals","body":"Only for those who stayed."}`,
				"Idempotency-Key", "consent-1")
			if code != 202 {
				t.Fatalf("broadcast: %d %s", code, out)
			}
			event := idOf(t, out)
			subject := regexp.MustCompile(`(?m)^Subject: .*After the refusals`)
			deadline := time.Now().Add(time.Minute) // a hang guard, not a performance bound
			var got []string
			for {
				got = got[:0]
				for _, m := range sink.Messages() {
					if subject.Match(m.Data) {
						got = append(got, m.To...)
					}
				}
				if len(got) > 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if len(got) != 1 || got[0] != "stay@example.com" {
				t.Errorf("the broadcast reached %v, want stay@example.com only", got)
			}
			// Its deliveries were planned in one statement: none is waiting
			// for the others either.
			_, deliveries := in.call("GET", "/api/v1/deliveries?event="+event, admin, "")
			if !strings.Contains(deliveries, stay) || strings.Contains(deliveries, left) || strings.Contains(deliveries, never) {
				t.Errorf("deliveries of the broadcast: %s", deliveries)
			}

			_, audit := in.call("GET", "/api/v1/audit?action=subscriber.&limit=200", admin, "")
			for _, w := range []string{"subscriber.update.refused", "subscriber.subscribe.refused", "subscriber.reconfirm", "subscriber.reconfirm.refused", "subscriber.import", `"rule":"never_confirmed"`} {
				if !strings.Contains(audit, w) {
					t.Errorf("the audit log lacks %s", w)
				}
			}
		})
	}
}
