package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quickstartBlock is one ```sh block of README's quickstart and the lines
// the ```text block after it says it prints.
type quickstartBlock struct {
	script string
	want   []string
}

// readQuickstart extracts the shell blocks of README.md's "## Quickstart"
// section, each with the expected-output block that follows it (if any).
func readQuickstart(t *testing.T, readme string) []quickstartBlock {
	t.Helper()
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	var (
		blocks  []quickstartBlock
		in      bool   // inside the quickstart section
		fence   string // "sh" or "text" while inside a fenced block
		current []string
	)
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case fence == "" && strings.HasPrefix(line, "## "):
			in = strings.HasPrefix(line, "## Quickstart")
		case !in:
		case fence == "" && (line == "```sh" || line == "```text"):
			fence, current = strings.TrimPrefix(line, "```"), nil
		case fence != "" && line == "```":
			if fence == "sh" {
				blocks = append(blocks, quickstartBlock{script: strings.Join(current, "\n")})
			} else if len(blocks) > 0 {
				blocks[len(blocks)-1].want = current
			}
			fence = ""
		case fence != "":
			current = append(current, line)
		}
	}
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```sh blocks under a \"## Quickstart\" heading")
	}
	return blocks
}

// TestREADMEQuickstart runs README's quickstart, block by block in one
// shell, against a fresh Herald in a temporary directory, and fails when a
// command fails or an expected output line is missing. Two substitutions
// keep it hermetic: the binary built for the test stands in for
// `go build -o herald ./cmd/herald`, and a free loopback port for
// localhost:8080.
func TestREADMEQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	for _, tool := range []string{"bash", "curl", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the quickstart needs %s: %v", tool, err)
		}
	}
	blocks := readQuickstart(t, "../../README.md")
	bin := buildHerald(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var script strings.Builder
	script.WriteString("set -e\n")
	for i, b := range blocks {
		body := strings.ReplaceAll(b.script, "localhost:8080", addr)
		body = strings.ReplaceAll(body, "go build -o herald ./cmd/herald", fmt.Sprintf("cp %q herald", bin))
		fmt.Fprintf(&script, "echo '@@block %d@@'\n%s\n", i, body)
	}
	script.WriteString("echo '@@end@@'\n")

	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "HERALD_ADDR=" + addr}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	// The quickstart leaves Herald running in the background, as a reader's
	// shell would; end it with the shell's whole process group.
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	log := func() string {
		l, _ := os.ReadFile(filepath.Join(dir, "herald.log"))
		return string(l)
	}
	if err != nil {
		t.Fatalf("the quickstart failed: %v\noutput:\n%s\nherald.log:\n%s", err, out, log())
	}
	parts := strings.Split(string(out), "@@block ")
	if len(parts) != len(blocks)+1 || !strings.Contains(string(out), "@@end@@") {
		t.Fatalf("the quickstart did not run every block:\n%s", out)
	}
	for i, b := range blocks {
		got := parts[i+1]
		for _, want := range b.want {
			if !strings.Contains(got, want) {
				t.Errorf("block %d: the README says it prints %q; it printed:\n%s\nherald.log:\n%s", i+1, want, got, log())
			}
		}
	}
}
