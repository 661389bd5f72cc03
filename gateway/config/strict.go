package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LineError is a problem at one line of a configuration file. Err is the
// problem itself (for a Validate finding, a *FieldError).
type LineError struct {
	File string // "" when the YAML did not come from a file
	Line int
	Err  error
}

// Error renders "file:line: problem", or "line N: problem" without a file.
func (e *LineError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

// Unwrap returns the problem.
func (e *LineError) Unwrap() error { return e.Err }

// shaper is implemented by types whose YAML mapping form differs from their
// Go fields: the checker walks the mapping against the shape instead.
type shaper interface{ yamlShape() any }

var (
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	nodeType        = reflect.TypeFor[yaml.Node]()
)

// checker walks a node tree against a Go type before decoding, reporting
// unknown and duplicate keys, values of the wrong kind and values their type
// rejects, each with its line and key path. yaml.v3's own KnownFields is
// not enough: it is lost inside Node.Decode and custom unmarshalers, and it
// stops at the first problem.
type checker struct {
	file  string
	errs  []error
	seen  map[string]bool // rendered errors, so aliased nodes report once
	lines map[string]int  // key path → line, to place Validate's findings
}

func newChecker(file string) *checker {
	return &checker{file: file, seen: map[string]bool{}, lines: map[string]int{}}
}

// strict checks n against shape's type; custom unmarshalers call it so that
// they are strict even when decoded outside Load.
func strict(n *yaml.Node, shape any) error {
	c := newChecker("")
	c.walk(n, reflect.TypeOf(shape), "")
	return c.err()
}

func (c *checker) err() error { return errors.Join(c.errs...) }

func (c *checker) add(line int, err error) {
	e := &LineError{File: c.file, Line: line, Err: err}
	if s := e.Error(); !c.seen[s] {
		c.seen[s] = true
		c.errs = append(c.errs, e)
	}
}

func (c *checker) errorf(line int, format string, args ...any) {
	c.add(line, fmt.Errorf(format, args...))
}

func (c *checker) walk(n *yaml.Node, t reflect.Type, path string) {
	n = resolveAlias(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // leaves the default in place
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nodeType:
		c.duplicates(n, path)
		return
	case reflect.PointerTo(t).Implements(unmarshalerType):
		if s, ok := reflect.New(t).Interface().(shaper); ok && n.Kind == yaml.MappingNode {
			c.walk(n, reflect.TypeOf(s.yamlShape()), path)
			return
		}
		c.duplicates(n, path)
		c.leaf(n, t, path)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			what := prefix(path)
			if path == "" {
				what = "the configuration "
			}
			c.errorf(n.Line, "%smust be a mapping of keys (got %s)", what, describe(n))
			return
		}
		c.fields(n, t, yamlFields(t), path)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.errorf(n.Line, "%smust be a mapping (got %s)", prefix(path), describe(n))
			return
		}
		c.eachKey(n, path, func(k, v *yaml.Node) {
			p := join(path, k.Value)
			c.lines[p] = k.Line
			c.walk(v, t.Elem(), p)
		})
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			c.errorf(n.Line, "%smust be a list (got %s)", prefix(path), describe(n))
			return
		}
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			c.lines[p] = item.Line
			c.walk(item, t.Elem(), p)
		}
	case reflect.Interface:
		c.duplicates(n, path)
	default:
		c.leaf(n, t, path)
	}
}

// fields checks a mapping against a struct's yaml keys, following merge
// keys ("<<: *anchor") into the merged mappings.
func (c *checker) fields(n *yaml.Node, t reflect.Type, known map[string]reflect.Type, path string) {
	c.eachKey(n, path, func(k, v *yaml.Node) {
		if k.ShortTag() == "!!merge" {
			v = resolveAlias(v)
			merged := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				merged = v.Content
			}
			for _, m := range merged {
				if m = resolveAlias(m); m.Kind == yaml.MappingNode {
					c.fields(m, t, known, path)
				}
			}
			return
		}
		ft, ok := known[k.Value]
		if !ok {
			c.errorf(k.Line, "unknown key %q%s%s", k.Value, in(path), suggest(k.Value, known))
			return
		}
		p := join(path, k.Value)
		c.lines[p] = k.Line
		c.walk(v, ft, p)
	})
}

// eachKey calls f for every key of mapping n except duplicates, which it
// reports; keys must be scalars.
func (c *checker) eachKey(n *yaml.Node, path string, f func(k, v *yaml.Node)) {
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			c.errorf(k.Line, "%skeys must be plain words (got %s)", prefix(path), describe(k))
			continue
		}
		if k.ShortTag() != "!!merge" {
			if line, dup := first[k.Value]; dup {
				c.errorf(k.Line, "duplicate key %q%s (first at line %d)", k.Value, in(path), line)
				continue
			}
			first[k.Value] = k.Line
		}
		f(k, v)
	}
}

// duplicates reports duplicate keys anywhere below n, for values whose keys
// are free-form (label names, severities).
func (c *checker) duplicates(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		c.eachKey(n, path, func(k, v *yaml.Node) { c.duplicates(v, join(path, k.Value)) })
	case yaml.SequenceNode:
		for i, item := range n.Content {
			c.duplicates(item, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

// leaf decodes n alone into a fresh value of type t, reporting what the type
// rejects with its line and path.
func (c *checker) leaf(n *yaml.Node, t reflect.Type, path string) {
	err := n.Decode(reflect.New(t).Interface())
	if err == nil {
		return
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		c.errorf(n.Line, "%s%s (got %s)", prefix(path), want(t), describe(n))
		return
	}
	for _, e := range flatten(err) {
		line := n.Line
		var le *lineErr
		if errors.As(e, &le) {
			line = le.line
		}
		var inner *LineError // from a nested strict check: already placed
		if errors.As(e, &inner) {
			c.add(inner.Line, fmt.Errorf("%s%w", prefix(path), inner.Err))
			continue
		}
		c.add(line, fmt.Errorf("%s%w", prefix(path), e))
	}
}

// flatten lists the errors joined in err (none for nil).
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

func want(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "must be a string"
	case reflect.Bool:
		return "must be true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "must be a whole number"
	case reflect.Float32, reflect.Float64:
		return "must be a number"
	}
	return "invalid value"
}

// yamlFields maps the yaml keys of struct t to their field types, as
// yaml.v3 names them: the tag's name, else the lower-cased field name;
// inline structs contribute their keys.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// suggest proposes the closest known key for a likely typo.
func suggest(key string, known map[string]reflect.Type) string {
	best, bestDist := "", 3
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if d := editDistance(key, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	for _, k := range names { // "matchers" for "match", "desc" for "description"
		if best == "" && min(len(k), len(key)) >= 4 && (strings.HasPrefix(key, k) || strings.HasPrefix(k, key)) {
			best = k
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func prefix(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}

func in(path string) string {
	if path == "" {
		return ""
	}
	return " in " + path
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError places a yaml.v3 parse error at its line in file.
func syntaxError(file string, err error) error {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &LineError{File: file, Line: line, Err: errors.New(m[2])}
	}
	return fmt.Errorf("%s: %w", file, err)
}
