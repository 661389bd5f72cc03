package config

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway/sources"
)

// TestSourceKindsAreTheRegistry: the kinds a source may name are
// sources.Registry's, not a second list kept here: a kind added to the
// registry is accepted by validation and named in its message at once.
func TestSourceKindsAreTheRegistry(t *testing.T) {
	sources.Registry["zabbix"] = sources.Registry["generic"]
	t.Cleanup(func() { delete(sources.Registry, "zabbix") })
	ok := writeFile(t, "ok.yml", "sources:\n  - name: zbx\n    kind: zabbix\n    token: a-token-of-sixteen-chars\n")
	if _, err := Load(ok, envMap(nil)); err != nil {
		t.Errorf("a source of a registered kind: %v", err)
	}
	_, err := Load(filepath.Join("testdata", "bad_kind.yml"), envMap(nil))
	// The named tools' formats in order, generic last; derived from the
	// registry, so that adding a source does not mean editing this test.
	named := slices.DeleteFunc(sources.Kinds(), func(k string) bool { return k == "generic" })
	if !slices.Contains(named, "zabbix") || !slices.IsSorted(named) {
		t.Fatalf("the registry's kinds %q lack the one added", named)
	}
	assertErrorHas(t, err, `unknown kind "foo" (want `+strings.Join(named, ", ")+` or generic)`)
}
