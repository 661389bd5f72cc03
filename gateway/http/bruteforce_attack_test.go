package http_test

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// from returns a client whose connections leave from ip, a loopback
// address other than the server's 127.0.0.1, so that the server sees
// another client address (Linux answers on all of 127.0.0.0/8).
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

// hit sends a POST or GET (body "" for GET) with auth as Authorization
// from client and returns the status and Retry-After.
func (e *env) hit(client *http.Client, path, auth, body string) (int, string) {
	e.t.Helper()
	method := http.MethodGet
	if body != "" {
		method = http.MethodPost
	}
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header.Get("Retry-After")
}

// TestBruteForceIsRateLimited: guessing API keys, source tokens and
// routing keys from one address is answered 429 with Retry-After after
// AuthFailures failures, for right guesses too, while the same secrets
// keep working from another address; successes use up nothing; each
// ingest source is its own scope.
func TestBruteForceIsRateLimited(t *testing.T) {
	const limit = 3
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{AuthFailures: limit, AuthFailuresEvery: time.Hour})
		_, amToken := e.source("am", "alertmanager", 0)
		_, pdToken := e.source("pd", "pagerduty", 0)
		firing := sample(t, "alertmanager", "alertmanager-firing.json")
		event := func(key string) string {
			return `{"routing_key":"` + key + `","event_action":"trigger","dedup_key":"x",` +
				`"payload":{"summary":"s","source":"h","severity":"critical"}}`
		}
		apiKey := "Bearer " + e.keys[gateway.RoleViewer]
		attacker, other := from("127.0.0.2"), from("127.0.0.3")

		attacks := []struct {
			name              string
			path, wrong, body string // body "" is a GET
			right             string // the right secret, as wrong has it
			rightBody         string
			wantOK            int
		}{
			{"API key", "/api/v1/components", "Bearer hkey_guess", "", apiKey, "", 200},
			{"source token", "/ingest/am", "Bearer hsrc_guess", firing, "Bearer " + amToken, firing, 202},
			{"routing key", "/v2/enqueue", "", event("hsrc_guess"), "", event(pdToken), 202},
		}
		for _, a := range attacks {
			t.Run(a.name, func(t *testing.T) {
				for i := range limit {
					if code, _ := e.hit(attacker, a.path, a.wrong, a.body); code != 401 {
						t.Fatalf("guess %d = %d, want 401", i+1, code)
					}
				}
				code, retry := e.hit(attacker, a.path, a.wrong, a.body)
				if secs, _ := strconv.Atoi(retry); code != 429 || secs < 1 {
					t.Errorf("guess %d = %d, Retry-After %q; want 429 with a wait", limit+1, code, retry)
				}
				if code, _ := e.hit(attacker, a.path, a.right, a.rightBody); code != 429 {
					t.Errorf("the right secret from the refused address = %d, want 429", code)
				}
				if code, _ := e.hit(other, a.path, a.right, a.rightBody); code != a.wantOK {
					t.Errorf("the right secret from another address = %d, want %d", code, a.wantOK)
				}
			})
		}

		// Each source is its own scope: the attacker's failures on am do
		// not lock out pd's own URL from its address.
		if code, _ := e.hit(attacker, "/ingest/pd", "Bearer "+pdToken, event(pdToken)); code != 202 {
			t.Errorf("another source from the same address = %d, want 202", code)
		}

		// Successes use up nothing and give no credit: many right keys,
		// then exactly limit failures before 429.
		client := from("127.0.0.4")
		for range 2 * limit {
			if code, _ := e.hit(client, "/api/v1/components", apiKey, ""); code != 200 {
				t.Fatalf("right key = %d", code)
			}
		}
		for i := range limit {
			if code, _ := e.hit(client, "/api/v1/components", "Bearer hkey_guess", ""); code != 401 {
				t.Errorf("failure %d after successes = %d, want 401", i+1, code)
			}
		}
		if code, _ := e.hit(client, "/api/v1/components", "Bearer hkey_guess", ""); code != 429 {
			t.Errorf("failure %d after successes = %d, want 429", limit+1, code)
		}
		// Role refusals (403) are not failed authentications.
		viewer := from("127.0.0.5")
		for range limit + 1 {
			if code, _ := e.hit(viewer, "/api/v1/audit", apiKey, ""); code != 403 {
				t.Errorf("viewer reading the audit log = %d, want 403", code)
			}
		}
		if got := e.alerts("source=am"); len(got) == 0 {
			t.Error("the right token from another address stored nothing")
		}
	})
}
