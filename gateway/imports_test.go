package gateway_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestImportBoundaries keeps the shape docs/architecture.md describes (and
// .golangci.yml's depguard states for golangci-lint, which CI runs): the
// domain package imports only the standard library, SQL stays in the store,
// and Echo stays in the HTTP-facing packages. A violation names the package
// and the import, so the fix is obvious.
func TestImportBoundaries(t *testing.T) {
	const module = "github.com/heraldstatus/herald"
	// A failing go list fails the test: a skip here would let a broken
	// package (or a machine without the go command) pass every rule.
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports ","}}`, module+"/...").Output()
	if err != nil {
		var stderr []byte
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	if !strings.Contains(string(out), module+"/gateway|") {
		t.Fatalf("go list did not list %s/gateway; the rules would check nothing:\n%s", module, out)
	}
	rules := []struct {
		pkg     string // an import path prefix that may not appear...
		allowed []string
	}{
		{"github.com/jmoiron/sqlx", []string{module + "/gateway/store"}},
		{"github.com/labstack/echo", []string{module + "/gateway/http", module + "/gateway/web", module + "/gateway/console", module + "/cmd/"}},
		{"database/sql", []string{module + "/gateway/store", module + "/migrations"}},
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, imports, _ := strings.Cut(line, "|")
		for _, imp := range strings.Split(imports, ",") {
			if path == module+"/gateway" && imp != "" && strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				t.Errorf("the domain package imports %s; it must use the standard library only", imp)
			}
			for _, r := range rules {
				if imp != r.pkg && !strings.HasPrefix(imp, r.pkg+"/") {
					continue
				}
				ok := false
				for _, a := range r.allowed {
					ok = ok || path == strings.TrimSuffix(a, "/") || strings.HasPrefix(path, a+"/") || (strings.HasSuffix(a, "/") && strings.HasPrefix(path, a))
				}
				if !ok {
					t.Errorf("%s imports %s, which belongs only in %v", path, imp, r.allowed)
				}
			}
		}
	}
}
