package http_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// source creates a source through the admin API and returns its id and token.
func (e *env) source(name, kind string, rate float64) (id, token string) {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "kind": kind, "rate_limit": rate})
	r := e.do("POST", "/api/v1/sources", gateway.RoleAdmin, string(body))
	if r.status != 201 {
		e.t.Fatalf("create source %s = %d %s", name, r.status, r.body)
	}
	var src struct{ ID, Token string }
	r.decode(e.t, &src)
	return src.ID, src.Token
}

// post sends body to path with auth as the Authorization header (""
// for none) and ct as the Content-Type ("" for none).
func (e *env) post(path, auth, ct string, body io.Reader) response {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	return e.send(req)
}

// alerts lists alerts through the admin API.
func (e *env) alerts(query string) []map[string]any {
	e.t.Helper()
	r := e.do("GET", "/api/v1/alerts?"+query, gateway.RoleViewer, "")
	if r.status != 200 {
		e.t.Fatalf("list alerts = %d %s", r.status, r.body)
	}
	var page struct{ Data []map[string]any }
	r.decode(e.t, &page)
	return page.Data
}

func sample(t *testing.T, format, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "sources", format, "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// chunked hides a body's length, so that only reading finds it too large.
type chunked struct{ io.Reader }

// Every error code docs/ingest.md lists for ingest, on both stores; none of the
// refused requests stores anything.
func TestIngestErrors(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{IngestBodyLimit: 4096})
		_, token := e.source("prom", "alertmanager", 0)
		_, limitedToken := e.source("limited", "generic", 0.01)
		bearer := "Bearer " + token
		firing := sample(t, "alertmanager", "alertmanager-firing-single.json")
		big := `{"version":"4","alerts":[],"pad":"` + strings.Repeat("x", 5000) + `"}`
		tests := []struct {
			name, path, auth, ct string
			body                 io.Reader
			status               int
			code, field          string
		}{
			{"malformed", "/ingest/prom", bearer, "application/json", strings.NewReader(`{"alerts":[`), 400, "invalid", ""},
			{"not an object", "/ingest/prom", bearer, "application/json", strings.NewReader(`[1]`), 400, "invalid", ""},
			{"no token", "/ingest/prom", "", "application/json", strings.NewReader(firing), 401, "unauthorized", ""},
			{"wrong token", "/ingest/prom", "Bearer hsrc_wrong", "application/json", strings.NewReader(firing), 401, "unauthorized", ""},
			{"another source's token", "/ingest/prom", "Bearer " + limitedToken, "", strings.NewReader(firing), 401, "unauthorized", ""},
			{"unknown source", "/ingest/nope", bearer, "application/json", strings.NewReader(firing), 401, "unauthorized", ""},
			{"too large", "/ingest/prom", bearer, "application/json", strings.NewReader(big), 413, "too_large", ""},
			{"too large, chunked", "/ingest/prom", bearer, "application/json", chunked{strings.NewReader(big)}, 413, "too_large", ""},
			{"AWS SNS's text/plain", "/ingest/prom", bearer, "text/plain; charset=UTF-8", strings.NewReader(firing), 415, "unsupported_media_type", ""},
			{"gzip", "/ingest/prom", bearer, "application/json", strings.NewReader(firing), 415, "unsupported_media_type", ""},
			{"invalid field", "/ingest/prom", bearer, "application/json",
				strings.NewReader(`{"version":"4","alerts":[{"status":"burning","labels":{"a":"b"}}]}`), 422, "unprocessable", "alerts[0].status"},
			{"rate limited", "/ingest/limited", "Bearer " + limitedToken, "", strings.NewReader(`{"status":"firing","summary":"x"}`), 429, "rate_limited", ""},
		}
		// The limited source's one token of its bucket goes first.
		if r := e.post("/ingest/limited", "Bearer "+limitedToken, "", strings.NewReader(`{"status":"firing","summary":"x"}`)); r.status != 202 {
			t.Fatalf("first request of the limited source = %d %s", r.status, r.body)
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				req, _ := http.NewRequest("POST", e.url+tt.path, tt.body)
				if tt.auth != "" {
					req.Header.Set("Authorization", tt.auth)
				}
				if tt.ct != "" {
					req.Header.Set("Content-Type", tt.ct)
				}
				if tt.name == "gzip" {
					req.Header.Set("Content-Encoding", "gzip")
				}
				r := e.send(req)
				if r.status != tt.status || r.errorCode() != tt.code {
					t.Fatalf("= %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
				}
				if tt.field != "" && !strings.Contains(r.body, `"`+tt.field+`":`) {
					t.Errorf("error %s does not name field %q", r.body, tt.field)
				}
				if tt.status == 429 && r.header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
				if tt.status == 401 && r.header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			})
		}
		if got := e.alerts("source=prom"); len(got) != 0 {
			t.Errorf("refused requests stored %d alerts", len(got))
		}
		m := e.do("GET", "/metrics", "", "")
		for _, want := range []string{`herald_ingest_rejected_total{reason="unauthorized",source="prom"} 3`,
			`herald_ingest_rejected_total{reason="unauthorized",source="unknown"} 1`,
			`herald_ingest_rejected_total{reason="rate_limited",source="limited"} 1`} {
			if !strings.Contains(m.body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}

		// 503 while the database is down: nothing can be stored, and the
		// sender is told when to retry.
		st.Close()
		r := e.post("/ingest/prom", bearer, "application/json", strings.NewReader(firing))
		if r.status != 503 || r.errorCode() != "unavailable" || r.header.Get("Retry-After") == "" {
			t.Errorf("with the database down = %d %s (Retry-After %q), want 503 with Retry-After", r.status, r.body, r.header.Get("Retry-After"))
		}
	})
}

// A firing then resolved Alertmanager alert ends as one resolved row, and
// each way of presenting the token works.
func TestIngestAlertmanager(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		_, token := e.source("prom", "alertmanager", 0)
		basic := "Basic " + basicAuth("alertmanager", token)
		steps := []struct {
			path, auth, file, want string
		}{
			{"/ingest/prom", "Bearer " + token, "alertmanager-firing.json", `"accepted":2`},
			{"/ingest/prom?token=" + token, "", "alertmanager-firing.json", `"deduplicated":2`},
			{"/ingest/prom", basic, "alertmanager-resolved.json", `"accepted":1`},
		}
		for _, s := range steps {
			r := e.post(s.path, s.auth, "application/json", strings.NewReader(sample(t, "alertmanager", s.file)))
			if r.status != 202 || !strings.Contains(r.body, s.want) || !strings.Contains(r.body, `"received":`) {
				t.Fatalf("POST %s = %d %s, want 202 with %s", s.file, r.status, r.body, s.want)
			}
		}
		resolved := e.alerts("status=resolved&source=prom")
		if len(resolved) != 1 || resolved[0]["fingerprint"] != "7c16bdd79ebcde67" || resolved[0]["ends_at"] == nil {
			t.Fatalf("resolved alerts = %v, want 7c16bdd79ebcde67 with its end", resolved)
		}
		if all := e.alerts("fingerprint=7c16bdd79ebcde67"); len(all) != 1 {
			t.Errorf("%d rows for the fingerprint, want 1", len(all))
		}
		r := e.do("GET", "/api/v1/alerts/"+resolved[0]["id"].(string), gateway.RoleViewer, "")
		if r.status != 200 || !strings.Contains(r.body, `"raw":{`) {
			t.Errorf("GET alert = %d %s, want it with its raw payload", r.status, r.body)
		}
		if m := e.do("GET", "/metrics", "", ""); !strings.Contains(m.body, `herald_ingest_alerts_total{outcome="accepted",source="prom"} 3`) {
			t.Errorf("/metrics lacks the accepted alerts")
		}
	})
}

// Prometheus pointed at Herald as at an Alertmanager posts to
// <path_prefix>/api/v2/alerts.
func TestIngestPrometheusAsAlertmanager(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		_, token := e.source("prom", "alertmanager-api", 0)
		body := sample(t, "alertmanagerapi", "api-v2-alerts-post-firing.json")
		r := e.post("/ingest/prom/api/v2/alerts", "Bearer "+token, "application/json", strings.NewReader(body))
		if r.status != 200 || !strings.Contains(r.body, `"received":3`) {
			t.Fatalf("= %d %s", r.status, r.body)
		}
	})
}

// Rotating a token stops the old one at once.
func TestSourceTokenRotation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		id, old := e.source("scripts", "generic", 0)
		body := `{"status":"firing","summary":"backup failed"}`
		if r := e.post("/ingest/scripts", "Bearer "+old, "", strings.NewReader(body)); r.status != 202 {
			t.Fatalf("with the first token = %d %s", r.status, r.body)
		}
		r := e.do("POST", "/api/v1/sources/"+id+"/rotate-token", gateway.RoleAdmin, "")
		var rotated struct{ Token, TokenPrefix string }
		r.decode(t, &rotated)
		if r.status != 200 || rotated.Token == "" || rotated.Token == old || !strings.HasPrefix(rotated.Token, rotated.TokenPrefix) {
			t.Fatalf("rotate = %d %s", r.status, r.body)
		}
		if r := e.post("/ingest/scripts", "Bearer "+old, "", strings.NewReader(body)); r.status != 401 {
			t.Errorf("old token after rotation = %d %s, want 401", r.status, r.body)
		}
		if r := e.post("/ingest/scripts", "Bearer "+rotated.Token, "", strings.NewReader(body)); r.status != 202 {
			t.Errorf("new token = %d %s, want 202", r.status, r.body)
		}
		if r := e.do("GET", "/api/v1/sources/"+id, gateway.RoleViewer, ""); strings.Contains(r.body, rotated.Token) || strings.Contains(r.body, "hash") {
			t.Errorf("GET source shows the token or its hash: %s", r.body)
		}
	})
}

// /v2/enqueue answers as PagerDuty's Events API v2 does.
func TestEnqueuePagerDuty(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		_, token := e.source("uptime", "pagerduty", 0)
		trigger := `{"routing_key":"` + token + `","event_action":"trigger","dedup_key":"api/latency",
			"payload":{"summary":"p99 above 2s","source":"web-1","severity":"critical","component":"api"}}`
		resolve := `{"routing_key":"` + token + `","event_action":"resolve","dedup_key":"api/latency"}`
		tests := []struct {
			name, path, body string
			status           int
			want             string
		}{
			{"trigger", "/v2/enqueue", trigger, 202, `{"status":"success","message":"Event processed","dedup_key":"api/latency"}`},
			{"resolve", "/v2/enqueue", resolve, 202, `{"status":"success","message":"Event processed","dedup_key":"api/latency"}`},
			{"invalid event", "/v2/enqueue", `{"routing_key":"` + token + `","event_action":"trigger","payload":{"summary":"x","source":"y"}}`,
				400, `{"status":"invalid event","message":"Event object is invalid","errors":["'payload.severity' is missing or blank"]}`},
			{"no routing key", "/v2/enqueue", `{"event_action":"trigger"}`, 400, `'routing_key' is missing or blank`},
			{"malformed", "/v2/enqueue", `{"routing_key":`, 400, `"status":"invalid event"`},
			{"unknown routing key", "/v2/enqueue", strings.ReplaceAll(trigger, token, "hsrc_nope"), 401, `"code":"unauthorized"`},
			{"at the source's own URL, routing_key as token", "/ingest/uptime", strings.ReplaceAll(trigger, "api/latency", "api/errors"),
				202, `"dedup_key":"api/errors"`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.post(tt.path, "", "application/json", strings.NewReader(tt.body))
				if r.status != tt.status || !strings.Contains(r.body, tt.want) {
					t.Fatalf("= %d %s, want %d %s", r.status, r.body, tt.status, tt.want)
				}
			})
		}
		got := e.alerts("source=uptime&fingerprint=api/latency")
		if len(got) != 1 || got[0]["status"] != "resolved" || got[0]["summary"] != "p99 above 2s" || got[0]["severity"] != "critical" {
			t.Errorf("alert after trigger and resolve = %v, want one resolved alert that kept its summary and severity", got)
		}
		if r := e.post("/ingest/uptime", "Bearer hsrc_nope", "", strings.NewReader(trigger)); r.status != 401 {
			t.Errorf("a wrong header token at the source's URL = %d %s, want 401", r.status, r.body)
		}
	})
}

func basicAuth(user, pass string) string {
	req, _ := http.NewRequestWithContext(context.Background(), "GET", "/", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}
