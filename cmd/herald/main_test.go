package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// instance is a herald running in-process, as `herald serve` would.
type instance struct {
	t      *testing.T
	url    string
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// envFrom makes a lookup over vars only: the test's environment never leaks in.
func envFrom(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

// start runs `herald args…` with the given environment until the test ends.
func start(t *testing.T, vars map[string]string, args ...string) *instance {
	t.Helper()
	if _, ok := vars["HERALD_ADDR"]; !ok {
		vars["HERALD_ADDR"] = "127.0.0.1:0"
	}
	logs := &syncBuffer{}
	addr := make(chan string, 1)
	a := &app{stdout: logs, stderr: logs, env: envFrom(vars), ready: func(s string) { addr <- s }}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{t: t, logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() {
		cmd := a.command()
		cmd.SetArgs(args)
		in.done <- cmd.ExecuteContext(ctx)
	}()
	select {
	case s := <-addr:
		in.url = "http://" + s
	case err := <-in.done:
		t.Fatalf("herald exited before listening: %v\n%s", err, logs)
	case <-time.After(10 * time.Second):
		t.Fatalf("herald did not listen\n%s", logs)
	}
	t.Cleanup(func() { in.stop() })
	return in
}

// stop shuts herald down as SIGTERM would and returns serve's error.
func (in *instance) stop() error {
	in.cancel()
	select {
	case err := <-in.done:
		in.done <- err // keep it for a second stop
		return err
	case <-time.After(30 * time.Second):
		in.t.Fatalf("herald did not stop\n%s", in.logs)
	}
	return nil
}

func (in *instance) get(path, key string) (int, string) {
	in.t.Helper()
	req, _ := http.NewRequest("GET", in.url+path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// waitReady polls /readyz until it answers want; the bound is a test
// timeout, not a performance claim.
func (in *instance) waitReady(want int, within time.Duration) string {
	in.t.Helper()
	deadline := time.Now().Add(within)
	var code int
	var body string
	for time.Now().Before(deadline) {
		if code, body = in.get("/readyz", ""); code == want {
			return body
		}
		time.Sleep(50 * time.Millisecond)
	}
	in.t.Fatalf("/readyz = %d %s, want %d within %v\nlogs:\n%s", code, body, want, within, in.logs)
	return ""
}

// bootstrapKey reads the admin key herald printed on first start.
func (in *instance) bootstrapKey() string {
	in.t.Helper()
	for _, f := range strings.Fields(in.logs.String()) {
		if k, ok := strings.CutPrefix(f, "api_key="); ok {
			return k
		}
	}
	in.t.Fatalf("no bootstrap key in the logs:\n%s", in.logs)
	return ""
}

func TestZeroConfigServesOnSQLite(t *testing.T) {
	t.Chdir(t.TempDir())
	in := start(t, map[string]string{})
	in.waitReady(200, 60*time.Second)
	if _, err := os.Stat("herald.db"); err != nil {
		t.Errorf("zero config did not create ./herald.db: %v", err)
	}
	if code, _ := in.get("/healthz", ""); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	key := in.bootstrapKey()
	if code, body := in.get("/api/v1/components", key); code != 200 {
		t.Errorf("the printed admin key does not work: %d %s", code, body)
	}
	if err := in.stop(); err != nil {
		t.Errorf("graceful stop returned %v", err)
	}
	// A second start on the same database prints no new key.
	again := start(t, map[string]string{})
	again.waitReady(200, 60*time.Second)
	if strings.Contains(again.logs.String(), "api_key=") {
		t.Error("a second start printed another bootstrap key")
	}
}

func TestServesOnPostgres(t *testing.T) {
	in := start(t, map[string]string{"HERALD_DATABASE_URL": storetest.PostgresURL(t), "HERALD_ADMIN_TOKEN": "boot-admin-token-0123456789abcdef"})
	body := in.waitReady(200, 60*time.Second)
	if !strings.Contains(body, "postgres") {
		t.Errorf("/readyz = %s, want the postgres dialect", body)
	}
	if code, body := in.get("/api/v1/components", "boot-admin-token-0123456789abcdef"); code != 200 {
		t.Errorf("HERALD_ADMIN_TOKEN does not work: %d %s", code, body)
	}
	if strings.Contains(in.logs.String(), "api_key=") {
		t.Error("a bootstrap key was printed although HERALD_ADMIN_TOKEN is set")
	}
}

// TestStartsBeforeItsDatabaseAndRidesOutOutages runs herald against
// PostgreSQL through a proxy the test can cut: herald must start while the
// database is unreachable, turn ready when it appears, and follow it down
// and up again without a restart.
func TestStartsBeforeItsDatabaseAndRidesOutOutages(t *testing.T) {
	pg := storetest.PostgresURL(t)
	proxy := storetest.NewProxy(t, hostOf(t, pg))
	in := start(t, map[string]string{"HERALD_DATABASE_URL": strings.Replace(pg, hostOf(t, pg), proxy.Addr, 1)})

	// The database is unreachable: alive, not ready, and saying why.
	if code, _ := in.get("/healthz", ""); code != 200 {
		t.Fatalf("/healthz while the database is down = %d, want 200", code)
	}
	body := in.waitReady(503, 5*time.Second)
	if !strings.Contains(body, "reason") {
		t.Errorf("/readyz = %s, want a reason", body)
	}
	if code, body := in.get("/api/v1/components", "x"); code != 503 {
		t.Errorf("API while starting = %d %s, want 503", code, body)
	}

	// It says why it waits (and keeps retrying) before the database appears.
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(in.logs.String(), "database not ready, retrying"); {
		if time.Now().After(deadline) {
			t.Fatalf("no log line says why herald was waiting:\n%s", in.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	proxy.Up()
	in.waitReady(200, 60*time.Second)

	proxy.Down() // PostgreSQL "killed" under a running herald
	in.waitReady(503, 20*time.Second)
	proxy.Up()
	in.waitReady(200, 60*time.Second)
	key := in.bootstrapKey()
	if code, body := in.get("/api/v1/components", key); code != 200 {
		t.Errorf("API after the database came back = %d %s", code, body)
	}
}

func TestConfigSyncAtStartIsIdempotent(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			dbURL := storetest.URL(t, d)
			cfgPath := filepath.Join(t.TempDir(), "herald.yml")
			writeSeedConfig(t, cfgPath)
			vars := map[string]string{"HERALD_DATABASE_URL": dbURL, "HERALD_CONFIG": cfgPath,
				"PROM_TOKEN": "prom-token-0123456789", "HERALD_ADMIN_TOKEN": "boot-admin-token-0123456789abcdef"}
			var first string
			for i := 0; i < 2; i++ {
				in := start(t, vars)
				in.waitReady(200, 60*time.Second)
				code, body := in.get("/api/v1/components", "boot-admin-token-0123456789abcdef")
				if code != 200 {
					t.Fatalf("components = %d %s", code, body)
				}
				var page struct{ Data []map[string]any }
				if err := json.Unmarshal([]byte(body), &page); err != nil {
					t.Fatal(err)
				}
				if len(page.Data) != 11 {
					t.Errorf("start %d: %d components, want the seed's 11", i+1, len(page.Data))
				}
				if i == 0 {
					first = body
				} else if body != first {
					t.Errorf("the second start changed the components:\n%s\n%s", first, body)
				}
				in.stop()
			}
		})
	}
}

// seedPageYAML declares the seed outage's page and its eleven components.
const seedPageYAML = `page: {name: Eptura Workplace, url: https://status.example.com}
components:
  - group: Eptura Workplace Modules
    components: [Space Module, Move Module, Reservation Module, Service Request Module, Asset Module,
                 Inventory Module, Mail Module, Copy Module, Visitor Module, Insights Module]
  - group: Apps
    components: [Hummingbird App]
`

func writeSeedConfig(t *testing.T, path string) {
	t.Helper()
	cfg := seedPageYAML + `sources:
  - name: prometheus
    kind: alertmanager
    token: ${PROM_TOKEN}
rules:
  - match: {service: space}
    components: [Space Module]
    severity_status: {critical: major_outage, warning: degraded_performance}
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidConfigStopsStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(path, []byte("correlation:\n  group_wiat: 30s\n"), 0o600)
	var out bytes.Buffer
	a := &app{stdout: &out, stderr: &out, env: envFrom(map[string]string{"HERALD_ADDR": "127.0.0.1:0"})}
	cmd := a.command()
	cmd.SetArgs([]string{"--config", path})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "group_wiat") || !strings.Contains(err.Error(), ":2") {
		t.Errorf("serve with an unknown key = %v, want an error naming the key and line", err)
	}
}

// run executes a one-shot verb and returns its output.
func run(t *testing.T, vars map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	a := &app{stdout: &out, stderr: io.Discard, env: envFrom(vars)}
	cmd := a.command()
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestVerbs(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			vars := map[string]string{"HERALD_DATABASE_URL": storetest.URL(t, d)}
			out, err := run(t, vars, "migrate", "status")
			if err != nil || !strings.Contains(out, "pending") {
				t.Errorf("migrate status on a new database = %q, %v; want pending", out, err)
			}
			out, err = run(t, vars, "migrate", "up")
			if err != nil || !regexp.MustCompile(`applied [1-9]`).MatchString(out) {
				t.Errorf("migrate up = %q, %v", out, err)
			}
			out, err = run(t, vars, "migrate", "status")
			// The STATE column, not a file name (00008_pending_alert_index.sql).
			if err != nil || regexp.MustCompile(`\spending\s`).MatchString(out) || !strings.Contains(out, "applied") {
				t.Errorf("migrate status after up = %q, %v", out, err)
			}

			out, err = run(t, vars, "apikey", "create", "--name", "grafana", "--role", "viewer")
			secret := strings.TrimSpace(out)
			if err != nil || !strings.HasPrefix(secret, "hrld_") {
				t.Fatalf("apikey create = %q, %v", out, err)
			}
			st, err := store.Open(context.Background(), vars["HERALD_DATABASE_URL"], storetest.Logger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.Prepare(context.Background()); err != nil {
				t.Fatal(err)
			}
			k, err := st.APIKeyBySecret(context.Background(), secret)
			if err != nil || k.Role != gateway.RoleViewer || k.Name != "grafana" {
				t.Errorf("the printed key = %+v, %v; want the viewer key grafana", k, err)
			}
			if _, err := run(t, vars, "apikey", "create", "--name", "x", "--role", "root"); err == nil || !strings.Contains(err.Error(), "role") {
				t.Errorf("apikey create with a bad role = %v, want an error naming the role", err)
			}
			if _, err := run(t, vars, "apikey", "create", "--role", "admin"); err == nil || !strings.Contains(err.Error(), "name") {
				t.Errorf("apikey create without --name = %v", err)
			}
		})
	}
	out, err := run(t, map[string]string{}, "version")
	if err != nil || !strings.HasPrefix(out, "herald ") {
		t.Errorf("version = %q, %v", out, err)
	}
}

func TestHelpOnEveryVerb(t *testing.T) {
	a := &app{stdout: io.Discard, stderr: io.Discard, env: envFrom(nil)}
	root := a.command()
	var paths [][]string
	var visit func(path []string, c *cobra.Command)
	visit = func(path []string, c *cobra.Command) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			if sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			visit(append(append([]string{}, path...), sub.Name()), sub)
		}
	}
	visit(nil, root)
	if len(paths) < 7 {
		t.Fatalf("found %d verbs: %v", len(paths), paths)
	}
	for _, p := range paths {
		t.Run(strings.Join(append([]string{"herald"}, p...), " "), func(t *testing.T) {
			out, err := run(t, nil, append(p, "--help")...)
			if err != nil || !strings.Contains(out, "Usage:") {
				t.Errorf("--help = %q, %v", out, err)
			}
		})
	}
}

// TestSIGTERMStopsGracefully builds the real binary and stops it with a signal.
func TestSIGTERMStopsGracefully(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "herald")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0") // a free port for the child
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = []string{"HERALD_ADDR=" + addr, "PATH=" + os.Getenv("PATH")}
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{t: t, url: "http://" + addr, logs: &logs}
	in.waitReady(200, 60*time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("herald exited with %v after SIGTERM\n%s", err, &logs)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("herald did not stop on SIGTERM\n%s", &logs)
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("no shutdown log line:\n%s", &logs)
	}
}

// TestUpdateDueReachesSupport promises an update a second away and does not
// post it: the reminder lands in the outbox, addressed to support_email.
func TestUpdateDueReachesSupport(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	in := start(t, map[string]string{"HERALD_ADMIN_TOKEN": "boot-admin-token-0123456789abcdef", "HERALD_SUPPORT_EMAIL": "oncall@example.com"})
	in.waitReady(200, 60*time.Second)
	post := func(path, body string) {
		t.Helper()
		req, _ := http.NewRequest("POST", in.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer boot-admin-token-0123456789abcdef")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 201 {
			t.Fatalf("POST %s = %d %s", path, res.StatusCode, b)
		}
	}
	post("/api/v1/components", `{"name":"Space Module"}`)
	due := time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)
	post("/api/v1/incidents", `{"name":"Site access","status":"identified","body":"Next update at 10:50am CST.",
		"components":{"Space Module":"major_outage"},"next_update_at":"`+due+`"}`)
	for deadline := time.Now().Add(30 * time.Second); ; {
		files, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.eml"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if strings.Contains(string(b), "To: <oncall@example.com>") && strings.Contains(strings.ToLower(string(b)), "update due") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no update-due reminder for support in the outbox (%d messages)\n%s", len(files), in.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Every verb's --help names the docs page that explains it.
func TestEveryVerbsHelpPointsAtTheDocs(t *testing.T) {
	a := &app{stdout: io.Discard, stderr: io.Discard, env: func(string) (string, bool) { return "", false }}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		var out strings.Builder
		c.SetOut(&out)
		if err := c.Help(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "Reference: docs/") && !strings.Contains(out.String(), "Reference: README.md") {
			t.Errorf("herald %s --help names no docs page:\n%s", c.CommandPath(), out.String())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(a.command())
}
