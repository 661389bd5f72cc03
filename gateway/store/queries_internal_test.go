package store

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseQueries(t *testing.T) {
	fsys := fstest.MapFS{
		"q/a.sql": {Data: []byte("-- A comment at the top.\n\n-- name: one\nSELECT 1;\n\n-- name: two\n-- why two\nSELECT\n  2;\n")},
		"q/b.txt": {Data: []byte("-- name: ignored\nSELECT 3;")},
	}
	got := map[string]string{}
	if err := parseQueries(fsys, "q", got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"one": "SELECT 1;", "two": "SELECT\n  2;"}
	if len(got) != len(want) || got["one"] != want["one"] || got["two"] != want["two"] {
		t.Errorf("parseQueries = %q, want %q", got, want)
	}
}

func TestEveryQueryIsDefined(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres} {
		if _, err := loadQueries(d, func(s string) string { return s }); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
}

func TestMissingQueryStopsStartup(t *testing.T) {
	q := &queries{}
	n := 0
	err := eachQuery(q, func(name string, _ reflect.Value) error { n++; return nil })
	if err != nil || n < 10 {
		t.Fatalf("eachQuery visited %d fields, %v", n, err)
	}
	blocks := map[string]string{"list-groups": "SELECT 1"}
	err = eachQuery(q, func(name string, _ reflect.Value) error {
		if _, ok := blocks[name]; !ok {
			return fmt.Errorf("query %q is missing", name)
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a missing block gave %v", err)
	}
}

// An include mark stands for its block; a missing block, or one that
// includes another, is an error at load rather than a broken statement.
func TestExpandIncludes(t *testing.T) {
	blocks := map[string]string{"cte": "WITH x AS (SELECT 1)", "nested": "SELECT 1 " + includeMark("cte")}
	for _, tt := range []struct {
		in, want string
		err      bool
	}{
		{"SELECT 2", "SELECT 2", false},
		{includeMark("cte") + "\nSELECT * FROM x", "WITH x AS (SELECT 1)\nSELECT * FROM x", false},
		{includeMark("none"), "", true},
		{includeMark("nested"), "", true},
	} {
		got, err := expandIncludes(tt.in, blocks)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("expandIncludes(%q) = %q, %v", tt.in, got, err)
		}
	}
}
