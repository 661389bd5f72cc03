package sources_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway/sources"
	"github.com/heraldstatus/herald/gateway/sources/internal/sourcetest"
)

// TestKinds: the kinds are the registry's, sorted, and docs/ingest.md's
// table of kinds names each of them and no other, so that a source added
// to the registry is documented there (and nowhere else needs a list).
func TestKinds(t *testing.T) {
	got := sources.Kinds()
	if !slices.IsSorted(got) || len(got) != len(sources.Registry) {
		t.Errorf("Kinds() = %q, want the registry's kinds, sorted", got)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "ingest.md"))
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9-]+)` \\|").FindAllStringSubmatch(string(doc), -1) {
		documented = append(documented, m[1])
	}
	slices.Sort(documented)
	if !slices.Equal(got, documented) {
		t.Errorf("Kinds() = %q, docs/ingest.md's table of kinds names %q", got, documented)
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
