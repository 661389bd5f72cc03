package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad: whatever a config file holds, Load does not panic, and a
// config it accepts passes Validate again (nothing invalid slips through
// the strict decoding). The environment is empty, so runs are repeatable;
// inputs that name secret files are skipped, since those would read
// whatever path the fuzzer made up.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.yml"))
	for _, name := range seeds {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("components:\n  - name: &a x\n    group: *a\n")
	f.Add("a: &a [*a, *a]\n")
	f.Add("public_url: ${HERALD_PUBLIC_URL:-https://status.example.com}\n")
	noEnv := func(string) (string, bool) { return "", false }
	f.Fuzz(func(t *testing.T, doc string) {
		if len(doc) > 32<<10 || strings.Contains(doc, "_file") {
			return
		}
		path := filepath.Join(t.TempDir(), "herald.yml")
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path, noEnv)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error with no message")
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Load accepted a config that Validate refuses: %v\n%s", err, doc)
		}
	})
}
