package config

import (
	"path/filepath"
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
	assertErrorHas(t, err, `unknown kind "foo" (want alertmanager, alertmanager-api, grafana, pagerduty, zabbix or generic)`)
}
