package http_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// logCapture is a JSON log written to memory, safe for the server's
// goroutines.
type logCapture struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logCapture) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logCapture) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logCapture) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// accessLines returns the access-log lines ("http request") for path, in
// order.
func (l *logCapture) accessLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if line["msg"] == "http request" && line["path"] == path {
			out = append(out, line)
		}
	}
	return out
}

// The access log says what the client got: the status and the size of the
// error body, for every family of refusal, not 200 and 0 bytes.
func TestAccessLogRecordsErrors(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		var logs logCapture
		e := newEnv(t, st, herhttp.Options{IngestBodyLimit: 4096, Log: logs.logger()})
		_, token := e.source("prom", "alertmanager", 0)
		_, limitedToken := e.source("limited", "generic", 0.01)
		if r := e.post("/ingest/limited", "Bearer "+limitedToken, "", strings.NewReader(`{"status":"firing","summary":"x"}`)); r.status != 202 {
			t.Fatalf("first request of the limited source = %d %s", r.status, r.body)
		}
		big := `{"version":"4","alerts":[],"pad":"` + strings.Repeat("x", 5000) + `"}`
		tests := []struct {
			name, method, path, auth, ct, body string
			role                               gateway.Role
			status                             int
		}{
			{"auth: no key", "GET", "/api/v1/components", "", "", "", "", 401},
			{"auth: role", "POST", "/api/v1/components", "", "application/json", `{"name":"X"}`, gateway.RoleViewer, 403},
			{"auth: source token", "POST", "/ingest/prom", "Bearer hsrc_wrong", "application/json", "{}", "", 401},
			{"body limit", "POST", "/ingest/prom", "Bearer " + token, "application/json", big, "", 413},
			{"content type", "POST", "/ingest/prom", "Bearer " + token, "text/plain", "{}", "", 415},
			{"validation", "POST", "/ingest/prom", "Bearer " + token, "application/json",
				`{"version":"4","alerts":[{"status":"burning","labels":{"a":"b"}}]}`, "", 422},
			{"rate limit", "POST", "/ingest/limited", "Bearer " + limitedToken, "", `{"status":"firing","summary":"x"}`, "", 429},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := len(logs.accessLines(t, tt.path))
				var r response
				if tt.auth == "" {
					r = e.do(tt.method, tt.path, tt.role, tt.body)
				} else {
					r = e.post(tt.path, tt.auth, tt.ct, strings.NewReader(tt.body))
				}
				if r.status != tt.status {
					t.Fatalf("= %d %s, want %d", r.status, r.body, tt.status)
				}
				lines := logs.accessLines(t, tt.path)
				if len(lines) != before+1 {
					t.Fatalf("%d access lines for %s after the request, want %d\n%s", len(lines), tt.path, before+1, logs.String())
				}
				line := lines[len(lines)-1]
				if got := int(line["status"].(float64)); got != tt.status {
					t.Errorf("logged status = %d, want %d: %v", got, tt.status, line)
				}
				if got := int(line["bytes"].(float64)); got != len(r.body) || got == 0 {
					t.Errorf("logged bytes = %d, want the %d bytes of the body sent: %v", got, len(r.body), line)
				}
			})
		}
	})
}
