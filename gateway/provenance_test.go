package gateway_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestTestdataSaysWhereItCameFrom: every file under a testdata folder is
// named (by its name or a `glob` in backquotes) in a README.md in its
// folder or a parent folder within testdata, which says where it came
// from: captured from which tool and version, written from which
// specification, or written by the project. Golden files of Herald's own
// output and Go's fuzz corpora need no entry of their own, but their
// folder needs a README saying what they are.
func TestTestdataSaysWhereItCameFrom(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path) // path is under root
		parts := strings.Split(filepath.ToSlash(rel), "/")
		at := indexOf(parts, "testdata")
		if at < 0 || d.Name() == "README.md" {
			return nil
		}
		found++
		inFuzz := len(parts) > at+2 && parts[at+1] == "fuzz"
		golden := strings.Contains(d.Name(), ".golden")
		// The nearest README.md between the file's folder and testdata/.
		for i := len(parts) - 1; i > at; i-- {
			readme := filepath.Join(append([]string{root}, append(parts[:i], "README.md")...)...)
			text, err := os.ReadFile(readme)
			if err != nil {
				continue
			}
			if inFuzz || golden || mentions(string(text), d.Name()) {
				return nil
			}
			t.Errorf("%s: %s does not say where it came from (name it, or a `glob` matching it)", rel, strings.TrimPrefix(readme, root+string(filepath.Separator)))
			return nil
		}
		t.Errorf("%s: no README.md in its testdata folder says where it came from", rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Fatal("found no testdata files; the check would pass vacuously")
	}
}

var backquoted = regexp.MustCompile("`([^`\n]+)`")

// mentions reports whether readme names file, literally or by a glob in
// backquotes that does not start with a wildcard.
func mentions(readme, file string) bool {
	for _, m := range backquoted.FindAllStringSubmatch(readme, -1) {
		token := filepath.Base(m[1])
		if token == file {
			return true
		}
		// A glob counts when it names something: "bad_*.yml" does,
		// "*.json" (every file) does not.
		if strings.HasPrefix(token, "*") {
			continue
		}
		if ok, _ := filepath.Match(token, file); ok {
			return true
		}
	}
	return false
}

func indexOf(parts []string, s string) int {
	for i, p := range parts {
		if p == s {
			return i
		}
	}
	return -1
}
