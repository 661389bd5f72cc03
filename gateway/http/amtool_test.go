package http_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/ingest"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestAmtoolAlertGetsResolveTimeout posts an alert with the real amtool
// (Debian's prometheus-alertmanager package) to an alertmanager-api
// source: amtool sends no end, and Herald gives the alert one
// correlation.resolve_timeout after it received it, as Alertmanager does,
// so that an alert nobody sends again resolves by itself.
func TestAmtoolAlertGetsResolveTimeout(t *testing.T) {
	amtool, err := exec.LookPath("amtool")
	if err != nil {
		t.Skip("amtool is not installed (apt install prometheus-alertmanager)")
	}
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		const timeout = 5 * time.Minute
		e := newEnv(t, st, herhttp.Options{})
		e.publish(func(s *herhttp.Services) {
			s.Ingest = ingest.New(st, ingest.Options{Log: storetest.Logger(t), ResolveTimeout: timeout})
		})
		_, token := e.source("am", "alertmanager-api", 0)
		cfg := filepath.Join(t.TempDir(), "http.yml")
		if err := os.WriteFile(cfg, []byte("authorization:\n  type: Bearer\n  credentials: "+token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, amtool, "alert", "add", "HeraldCheck", "service=api", "--annotation=summary=API down",
			"--alertmanager.url="+e.url+"/ingest/am", "--http.config.file="+cfg).CombinedOutput()
		if err != nil {
			t.Fatalf("amtool alert add: %v\n%s", err, out)
		}
		list := e.alerts("")
		if len(list) != 1 {
			t.Fatalf("%d alerts stored, want 1: %v", len(list), list)
		}
		a := list[0]
		ends, _ := time.Parse(time.RFC3339Nano, str(a["ends_at"]))
		seen, _ := time.Parse(time.RFC3339Nano, str(a["last_seen_at"]))
		if a["status"] != string(gateway.AlertFiring) || !ends.Equal(seen.Add(timeout)) {
			t.Errorf("amtool's alert is %v ending %v, last seen %v; want firing, ending resolve_timeout after", a["status"], a["ends_at"], a["last_seen_at"])
		}
	})
}

func str(v any) string { s, _ := v.(string); return s }
