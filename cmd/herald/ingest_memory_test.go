package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestIngestPeakMemoryStaysUnderGOMEMLIMIT posts ten request bodies of the
// largest size (limits.ingest_body, 10 MiB) at once to a child `herald
// serve` and compares its peak RSS (VmHWM) with the GOMEMLIMIT it runs
// with (512 MiB, Herald's own default where no cgroup limits memory). Each
// body holds about 66,000 small alerts, the shape that takes the most
// memory once decoded, and the bodies are the same, so that all but the
// first are alerts Herald already stores (the heavier case: the stored
// records are read and merged). Ingest bounds the bodies it holds at once
// by their size (see gateway/http's ingestBudget); the requests that wait
// too long for their turn are answered 503 (retry later; nothing stored),
// which is what the bound is for.
//
// The child runs as a user runs Herald: GOGC is left to Herald (400, see
// internal/gctune), and GOMEMLIMIT is Herald's default for a machine whose
// cgroup sets no limit, given so that the bound does not depend on the
// machine the test runs on. The collector then lets the heap grow past
// what ingest keeps live (five times it when it is small, at most 64 MiB
// past it since Herald caps that headroom, see internal/gctune), up to
// GOMEMLIMIT, and the peak RSS says how much ingest keeps live: about 516
// MiB (over the limit) when a body's alerts took about 1.8 KB each (2.9 KB
// once known), 358-403 MiB since they take under 1 KB, 206 MiB with the
// headroom capped (docs/performance.md). This is a memory bound, not
// a timing one: the answers are only counted.
func TestIngestPeakMemoryStaysUnderGOMEMLIMIT(t *testing.T) {
	if testing.Short() {
		t.Skip("ten 10 MiB bodies to a child herald")
	}
	const memLimit = 512 << 20
	bin := buildHerald(t)
	const admin = "hrld_memory_admin_token_0123456789"
	in := startChild(t, bin, map[string]string{"HERALD_DATABASE_URL": storetest.SQLiteURL(t), "HERALD_ADMIN_TOKEN": admin,
		"HERALD_OUTBOX_DIR": t.TempDir(), "GOMEMLIMIT": strconv.Itoa(memLimit), "HERALD_LOG_LEVEL": "error"})
	in.waitReady(200, 30*time.Second)
	code, out := in.call("POST", "/api/v1/sources", admin, `{"name":"am","kind":"alertmanager"}`)
	var src struct{ Token string }
	if err := json.Unmarshal([]byte(out), &src); code != http.StatusCreated || err != nil {
		t.Fatalf("create source = %d %s", code, out)
	}

	body := smallAlertsBody(10 << 20)
	codes := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", in.url+"/ingest/am", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+src.Token)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			mu.Lock()
			codes[res.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	hwm := vmHWM(t, in.cmd.Process.Pid)
	t.Logf("answers %v; peak RSS %.1f MiB, GOMEMLIMIT %d MiB", codes, float64(hwm)/(1<<20), memLimit>>20)
	if codes[202] == 0 || codes[202]+codes[503] != 10 {
		t.Errorf("answers %v, want 202s (and 503s for what waited too long)\n%s", codes, in.logs)
	}
	if hwm > memLimit {
		t.Errorf("peak RSS %.1f MiB is over GOMEMLIMIT (%d MiB)", float64(hwm)/(1<<20), memLimit>>20)
	}
}

// vmHWM reads a process's peak resident set size, in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// smallAlertsBody is an Alertmanager webhook body of up to size bytes of
// small alerts with distinct fingerprints.
func smallAlertsBody(size int) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"version":"4","status":"firing","alerts":[`)
	for i := 0; ; i++ {
		a := fmt.Sprintf(`{"status":"firing","labels":{"alertname":"A","i":"%d","job":"node","instance":"host:9100"},`+
			`"annotations":{"summary":"x"},"fingerprint":"%016x"}`, i, i)
		if buf.Len()+len(a)+3 > size {
			break
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(a)
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}
