package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// openMigrated returns the store of vars, migrated, for a test to seed.
func openMigrated(t *testing.T, url string) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url, storetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestBroadcastVerb(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			vars := map[string]string{"HERALD_DATABASE_URL": storetest.URL(t, d)}
			st := openMigrated(t, vars["HERALD_DATABASE_URL"])
			api := gateway.Component{Name: "API", Position: -1}
			if err := st.CreateComponent(context.Background(), &api); err != nil {
				t.Fatal(err)
			}
			storetest.AddSubscriber(t, st, storetest.Subscriber{Address: "page@example.com", All: true})
			storetest.AddSubscriber(t, st, storetest.Subscriber{Address: "api@example.com", Components: []string{api.ID}})
			storetest.AddSubscriber(t, st, storetest.Subscriber{Address: "other@example.com", Components: []string{}})

			out, err := run(t, vars, "broadcast", "--subject", "Upgrade", "--body", "Tonight.", "--component", "API", "--dry-run")
			if err != nil || !strings.Contains(out, "would reach 2 ") {
				t.Errorf("dry run = %q, %v; want 2", out, err)
			}
			args := []string{"broadcast", "--subject", "Upgrade", "--body", "Tonight.", "--component", "API", "--idempotency-key", "up-1"}
			out, err = run(t, vars, args...)
			if err != nil || !strings.Contains(out, "planned to 2 ") {
				t.Errorf("broadcast = %q, %v; want 2", out, err)
			}
			out, err = run(t, vars, args...)
			if err != nil || !strings.Contains(out, "nothing more is sent") {
				t.Errorf("repeat = %q, %v; want nothing sent", out, err)
			}
			if _, err := run(t, vars, "broadcast", "--subject", "x", "--body", "y", "--component", "Nope"); err == nil ||
				!strings.Contains(err.Error(), "Nope") {
				t.Errorf("unknown component err = %v, want one naming it", err)
			}
			if _, err := run(t, vars, "broadcast", "--body", "y"); err == nil {
				t.Error("a broadcast without --subject was accepted")
			}
		})
	}
}

// The whole path in a running herald: a broadcast through the API ends as
// one message per subscriber in the file outbox.
func TestServeDeliversABroadcast(t *testing.T) {
	outbox := t.TempDir()
	vars := map[string]string{"HERALD_DATABASE_URL": storetest.SQLiteURL(t), "HERALD_OUTBOX_DIR": outbox,
		"HERALD_ADMIN_TOKEN": "hrld_test_admin_token_0123456789"}
	st := openMigrated(t, vars["HERALD_DATABASE_URL"])
	for _, a := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		storetest.AddSubscriber(t, st, storetest.Subscriber{Address: a, All: true})
	}
	in := start(t, vars)
	in.waitReady(200, 30*time.Second)
	req, _ := http.NewRequest("POST", in.url+"/api/v1/broadcasts", strings.NewReader(`{"subject":"Hello","body":"World."}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+vars["HERALD_ADMIN_TOKEN"])
	req.Header.Set("Idempotency-Key", "serve-1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 202 {
		t.Fatalf("broadcast = %d", res.StatusCode)
	}
	deadline := time.Now().Add(30 * time.Second) // a hang guard, not a performance bound
	for {
		files, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
		if len(files) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages in the outbox, want 3\n%s", len(files), in.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := in.stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
	b, _ := os.ReadFile(files[0])
	if !regexp.MustCompile(`(?m)^Subject: .*Hello`).Match(b) {
		t.Errorf("message lacks the subject:\n%s", b)
	}
}
