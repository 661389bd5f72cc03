package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchScriptsRun runs each measuring script of docs/bench at a toy
// size, on SQLite, with the binaries of this tree: the figures of
// docs/performance.md are only as good as the scripts that reproduce them,
// and a script that stopped working (a setting the server came to refuse,
// a changed flag) would otherwise go unnoticed until someone measures.
func TestBenchScriptsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries and runs four servers")
	}
	alertmanager, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		if os.Getenv("HERALD_TEST_REQUIRE_E2E") == "1" {
			t.Fatal(err)
		}
		t.Skip("install Debian's prometheus-alertmanager to run this test")
	}
	for _, tool := range []string{"curl", "awk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the scripts need %s: %v", tool, err)
		}
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	for _, pkg := range []string{"./cmd/herald", "./cmd/herald-load"} {
		cmd := exec.Command("go", "build", "-o", bin+"/", pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	scripts := []struct {
		script string
		env    []string
		want   []string // lines of the output that carry the figures
	}{
		{"ingest-vs-alertmanager.sh", []string{"STORES=sqlite", "ROUNDS=1", "DURATION=1s", "ALERTMANAGER=" + alertmanager},
			[]string{"batches of 100", "single alerts", "×"}},
		{"pages.sh", []string{"ROUNDS=1", "DURATION=1s", "ADDR=" + freeAddr(t)}, []string{"/api/v2/summary.json", "%"}},
		{"storm.sh", []string{"ROUNDS=1", "N=500", "STALL=60", "ADDR=" + freeAddr(t)}, []string{"VmHWM"}},
		{"fanout-1m.sh", []string{"N=500", "STALL=60", "ADDR=" + freeAddr(t), "SMTP_ADDR=" + freeAddr(t), "SINK_HTTP=" + freeAddr(t)},
			[]string{"VmHWM", "msgs/s"}},
	}
	for _, s := range scripts {
		t.Run(s.script, func(t *testing.T) {
			args := []string{filepath.Join("docs", "bench", s.script)}
			if s.script == "fanout-1m.sh" {
				args = append(args, "sqlite")
			}
			cmd := exec.Command("sh", args...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), append(s.env, "BIN="+bin)...)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v after %v\n%s", s.script, err, time.Since(start).Round(time.Second), out)
			}
			for _, w := range s.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("%s printed no %q:\n%s", s.script, w, out)
				}
			}
		})
	}
}
