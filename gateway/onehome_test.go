package gateway_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneHomeForLimits keeps one implementation of each limit that
// docs/architecture.md ("One home for each behaviour") names: token
// buckets are made only in gateway/ratelimit (and the SMTP sender's one
// unkeyed pace, gateway/notify/email), request bodies are capped only in
// gateway/http/bodylimit, and client addresses are grouped only by
// gateway.ClientNetwork. A second map of buckets, a MaxBytesReader of its
// own or a prefix of its own is named here with its file.
func TestOneHomeForLimits(t *testing.T) {
	rules := []struct {
		pattern string
		allowed []string // files, slash-separated from the module root
		why     string
	}{
		{"rate.NewLimiter(", []string{"gateway/ratelimit/ratelimit.go", "gateway/notify/email/smtp.go"},
			"keyed limits use gateway/ratelimit.Keyed"},
		{"http.MaxBytesReader(", []string{"gateway/http/bodylimit/bodylimit.go"},
			"bodies are capped with gateway/http/bodylimit"},
		{".Prefix(64)", []string{"gateway/client.go"},
			"clients are keyed with gateway.ClientNetwork"},
	}
	root := ".."
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || name == "node_modules" || (strings.HasPrefix(name, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		for _, r := range rules {
			if !strings.Contains(string(b), r.pattern) {
				continue
			}
			ok := false
			for _, a := range r.allowed {
				ok = ok || rel == a
			}
			if !ok {
				t.Errorf("%s uses %s: %s", rel, r.pattern, r.why)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("only %d Go files checked; the walk did not find the module", checked)
	}
}
