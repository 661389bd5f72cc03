package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestSubscribersVerbs imports 100,000 rows through the CLI (timed and
// logged, not asserted), imports them again (nothing added), and exports.
func TestSubscribersVerbs(t *testing.T) {
	n := 100000
	if testing.Short() {
		n = 3000
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "list.csv")
	var b bytes.Buffer
	b.WriteString("email,components,confirmed\n")
	for i := range n {
		fmt.Fprintf(&b, "person%06d@example.com,API,%t\n", i, i%2 == 0)
	}
	b.WriteString("bad address,API,true\n")
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			vars := map[string]string{"HERALD_DATABASE_URL": storetest.URL(t, d), "HERALD_SECRET_KEY": "0123456789abcdef0123456789abcdef"}
			st := openMigrated(t, vars["HERALD_DATABASE_URL"])
			api := gateway.Component{Name: "API", Position: -1}
			if err := st.CreateComponent(context.Background(), &api); err != nil {
				t.Fatal(err)
			}
			// Without --consent-source (and no consent_source column) every
			// row is refused as confirmed without consent: nothing is added.
			if out, err := run(t, vars, "subscribers", "import", file, "--confirmed"); err != nil || !strings.Contains(out, " 0 added") {
				t.Errorf("--confirmed without --consent-source: %q, %v", out, err)
			}
			start := time.Now()
			out, err := run(t, vars, "subscribers", "import", file, "--consent-source", "newsletter opt-in 2025")
			t.Logf("%s: CLI import of %d rows took %v: %s", d, n+1, time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))
			want := fmt.Sprintf("%d rows in", n+1)
			if err != nil || !strings.Contains(out, want) || !strings.Contains(out, fmt.Sprintf("%d added", n)) || !strings.Contains(out, "1 invalid") {
				t.Fatalf("import = %q, %v", out, err)
			}
			out, err = run(t, vars, "subscribers", "import", file, "--consent-source", "newsletter opt-in 2025")
			if err != nil || !strings.Contains(out, " 0 added") {
				t.Errorf("second import = %q, %v", out, err)
			}
			export := filepath.Join(dir, d+"-export.csv")
			if _, err := run(t, vars, "subscribers", "export", export); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(export)
			if lines := bytes.Count(got, []byte("\n")); lines != n+1 || !bytes.Contains(got, []byte("person000001@example.com,API,false,email")) {
				t.Errorf("export has %d lines: %.200s", lines, got)
			}
		})
	}
}
