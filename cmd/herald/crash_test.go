package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/internal/mailsink"
)

// What a SIGKILL can re-send, from gateway/notify: a worker takes its next
// message only once the outcome of its last is committed, so the only
// messages sent twice are those the sink accepted in the instant between
// its reply and that commit, at most one per worker in hand. Email workers
// are notify.BacklogFactor per SMTP connection (smtp.max_conns, default 16).
const inHandBound = notify.BacklogFactor * 16

// The crash test's delivery lease, short so the run does not wait out the
// default two minutes; the mechanism is the same.
const crashConfig = "delivery:\n  lease: 15s\n  send_timeout: 10s\n"

// TestCrashMidFanOutLosesNothing kills a herald child process with SIGKILL
// in the middle of a 10,000-subscriber broadcast, restarts it and counts at
// a real SMTP server: every subscriber got the message, and duplicates
// (the target is zero) are reported and stay within what can be in hand
// at the kill.
func TestCrashMidFanOutLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and waits out a delivery lease")
	}
	const subscribers, killAfter = 10_000, 2_000
	bin := buildHerald(t)
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			began := time.Now()
			url := storetest.URL(t, d)
			st := openMigrated(t, url)
			storetest.SeedSubscribers(t, st, gateway.SubscriberEmail, subscribers)
			sink := mailsink.Start(t, mailsink.Options{Keep: mailsink.KeepEnvelope})
			cfgFile := filepath.Join(t.TempDir(), "herald.yml")
			if err := os.WriteFile(cfgFile, []byte(crashConfig), 0o600); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{
				"HERALD_CONFIG":       cfgFile,
				"HERALD_DATABASE_URL": url,
				"HERALD_SMTP_URL":     sink.URL(),
				"HERALD_ADMIN_TOKEN":  "hrld_test_admin_token_0123456789",
				"HERALD_PUBLIC_URL":   "http://status.example.com",
			}

			child := startChild(t, bin, env)
			child.waitReady(200, 60*time.Second)
			req, _ := http.NewRequest("POST", child.url+"/api/v1/broadcasts",
				strings.NewReader(`{"subject":"Crash test","body":"Everyone gets this once."}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+env["HERALD_ADMIN_TOKEN"])
			req.Header.Set("Idempotency-Key", "crash-1")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 202 {
				t.Fatalf("broadcast = %d\n%s", res.StatusCode, child.logs)
			}

			// Hang guards below, not performance bounds.
			waitFor(t, 2*time.Minute, func() bool { return sink.Count() >= killAfter }, "the sink to receive %d messages", killAfter)
			if err := child.cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			_ = child.cmd.Wait()
			atKill := sink.Count()
			sentAtKill, leftAtKill := fanOutAt(t, st)
			t.Logf("%s: killed herald after %d messages reached the sink; %d deliveries recorded sent, %d not yet",
				d, atKill, sentAtKill, leftAtKill)
			// The kill must land mid-fan-out, or the test proves nothing
			// about a crash: some deliveries done, some still to do.
			if sentAtKill == 0 || leftAtKill == 0 || atKill >= subscribers {
				t.Fatalf("the kill did not land mid-fan-out: %d sent, %d left, %d at the sink", sentAtKill, leftAtKill, atKill)
			}

			child = startChild(t, bin, env)
			child.waitReady(200, 60*time.Second)
			var left int
			waitFor(t, 5*time.Minute, func() bool {
				err := st.DB().QueryRow(
					`SELECT COUNT(*) FROM deliveries WHERE status IN ('queued', 'sending', 'retrying')`).Scan(&left)
				return err == nil && left == 0
			}, "the queue to drain (leases of the killed process expire after 15 s)")
			var sent int
			if err := st.DB().QueryRow(`SELECT COUNT(*) FROM deliveries WHERE status = 'sent'`).Scan(&sent); err != nil {
				t.Fatal(err)
			}

			missing, dups, ids := deliveryCounts(sink, subscribers)
			t.Logf("%s: %d subscribers, %d deliveries sent, %d messages at the sink (%d distinct Message-IDs), "+
				"missing %d, duplicates %d (target 0, bound %d in hand), %s",
				d, subscribers, sent, sink.Count(), ids, missing, dups, inHandBound, time.Since(began).Round(time.Second))
			if missing != 0 {
				t.Errorf("%d subscribers got nothing, want 0", missing)
			}
			if dups > inHandBound {
				t.Errorf("%d duplicates, want at most the %d that can be in hand", dups, inHandBound)
			}
			if sent != subscribers {
				t.Errorf("%d deliveries sent, want %d", sent, subscribers)
			}
		})
	}
}

// fanOutAt returns how many deliveries are recorded sent and how many are
// still to do (queued, held by a sender, or waiting to retry).
func fanOutAt(t *testing.T, st *store.Store) (sent, left int) {
	t.Helper()
	return storetest.MustCount(t, st, `SELECT COUNT(*) FROM deliveries WHERE status = 'sent'`),
		storetest.MustCount(t, st, `SELECT COUNT(*) FROM deliveries WHERE status IN ('queued', 'sending', 'retrying')`)
}

// buildHerald builds the herald binary into a temporary directory.
func buildHerald(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "herald")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// child is `herald serve` in a child process, which a test can SIGKILL.
type child struct {
	*instance
	cmd *exec.Cmd
}

// startChild runs bin with env (and nothing of the test's environment but
// PATH) on a free loopback port; the process is killed when the test ends.
func startChild(t *testing.T, bin string, env map[string]string) *child {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"HERALD_ADDR=" + addr, "PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return &child{instance: &instance{t: t, url: "http://" + addr, logs: logs}, cmd: cmd}
}

// waitFor polls cond until it holds or within passes (a hang guard).
func waitFor(t *testing.T, within time.Duration, cond func() bool, what string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for "+what, args...)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// deliveryCounts returns how many of userN@example.com (N < n) got
// nothing, how many messages beyond the first any address got, and the
// distinct Message-IDs among the messages the sink accepted.
func deliveryCounts(sink *mailsink.Sink, n int) (missing, dups, ids int) {
	perAddr := perAddress(sink)
	for i := range n {
		if perAddr[addrOf(i)] == 0 {
			missing++
		}
	}
	for _, c := range perAddr {
		dups += c - 1
	}
	seen := map[string]bool{}
	for _, m := range sink.Messages() {
		seen[m.MessageID] = true
	}
	return missing, dups, len(seen)
}

// perAddress counts the messages the sink accepted for each address.
func perAddress(sink *mailsink.Sink) map[string]int {
	perAddr := map[string]int{}
	for _, to := range sink.Recipients() {
		perAddr[strings.ToLower(to)]++
	}
	return perAddr
}

func addrOf(i int) string { return fmt.Sprintf("user%d@example.com", i) }

// TestServeRendersPreviews checks the wiring: serve hands the server the
// templates the channels send with.
func TestServeRendersPreviews(t *testing.T) {
	vars := map[string]string{"HERALD_DATABASE_URL": storetest.SQLiteURL(t), "HERALD_OUTBOX_DIR": t.TempDir(),
		"HERALD_ADMIN_TOKEN": "hrld_test_admin_token_0123456789"}
	in := start(t, vars)
	in.waitReady(200, 30*time.Second)
	for _, path := range []string{
		"/api/v1/templates/incident.created/preview",
		"/api/v1/templates/incident.created/preview?channel=webhook&format=slack",
	} {
		if code, body := in.get(path, vars["HERALD_ADMIN_TOKEN"]); code != 200 || !strings.HasPrefix(body, "{") {
			t.Errorf("GET %s = %d %s, want 200 with JSON", path, code, body)
		}
	}
}
