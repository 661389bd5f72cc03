package sources_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway/sources"
	"github.com/heraldstatus/herald/gateway/sources/internal/sourcetest"
)

func TestKinds(t *testing.T) {
	got := sources.Kinds()
	want := []string{"alertmanager", "alertmanager-api", "generic", "grafana", "pagerduty"}
	if !slices.Equal(got, want) {
		t.Errorf("Kinds() = %q, want %q (the kinds docs/ingest.md names)", got, want)
	}
}

// TestRegistry checks that each kind is wired to the decoder of its own
// package: every body in that package's testdata decodes.
func TestRegistry(t *testing.T) {
	for _, kind := range sources.Kinds() {
		t.Run(kind, func(t *testing.T) {
			d := sources.Registry[kind]
			if !slices.Contains(d.ContentTypes(), "application/json") {
				t.Errorf("ContentTypes() = %q, want application/json among them", d.ContentTypes())
			}
			dir := filepath.Join(strings.ReplaceAll(kind, "-", ""), "testdata")
			for _, file := range sourcetest.Bodies(t, dir) {
				alerts, err := d.Decode(file.Body, sourcetest.Now)
				if err != nil {
					t.Errorf("%s: %v", file.Name, err)
				}
				sourcetest.Check(t, alerts, sourcetest.Now)
			}
		})
	}
}
