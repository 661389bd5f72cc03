package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestServeRunsConfiguredProbes: herald serve syncs the file's
// dependencies and probes and runs the probes; a tcp probe against a
// closed port fires an alert of the source probe, routed to its component.
func TestServeRunsConfiguredProbes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	cfg := `components:
  - name: Database
  - name: Space Module
    depends_on: [Database]
probes:
  - name: db
    kind: tcp
    component: Database
    target: ` + closed + `
    interval: 1s
    timeout: 500ms
    failures: 1
`
	path := filepath.Join(t.TempDir(), "herald.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	const key = "probes-test-admin-token-0123456789abcdef"
	in := start(t, map[string]string{"HERALD_DATABASE_URL": storetest.URL(t, "sqlite"), "HERALD_CONFIG": path, "HERALD_ADMIN_TOKEN": key})
	defer in.stop()
	in.waitReady(200, 20*time.Second)

	if code, body := in.get("/api/v1/components/Space%20Module", key); code != 200 || strings.Contains(body, `"depends_on":[]`) {
		t.Errorf("Space Module = %d %s, want it to depend on Database", code, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := in.get("/api/v1/alerts?status=firing", key)
		if strings.Contains(body, `"fingerprint":"probe:db"`) {
			if !strings.Contains(body, "refused") {
				t.Errorf("the alert does not say why: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no firing probe alert: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The run commits its alert, then its result: wait for the result too.
	for {
		code, body := in.get("/api/v1/probes/db/results", key)
		if code == 200 && strings.Contains(body, `"ok":false`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("results = %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, body := in.get("/metrics", ""); code != 200 || !strings.Contains(body, `herald_probe_up{probe="db"} 0`) ||
		!strings.Contains(body, `herald_probe_duration_seconds_count{kind="tcp",probe="db"}`) {
		t.Errorf("metrics lack the probe's: %d", code)
	}
}

// TestProbeNamingAnUnknownComponentStopsStartup: the config error names
// the probe's key.
func TestProbeNamingAnUnknownComponentStopsStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.yml")
	cfg := "probes:\n  - {name: db, kind: tcp, target: 'db:5432', component: Nope}\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := run(t, map[string]string{"HERALD_DATABASE_URL": storetest.URL(t, "sqlite"), "HERALD_ADDR": "127.0.0.1:0"}, "--config", path)
	if err == nil || !strings.Contains(err.Error(), `probes[0].component: no component named "Nope"`) {
		t.Errorf("serve = %v, want an error naming probes[0].component", err)
	}
}
