// Package webhooktest holds captured Statuspage subscriber webhooks
// (testdata/README.md says where each comes from) and the checks that
// hold Herald's statuspage format to them: a comparer of key paths and
// JSON types (Shape), and the reads a Statuspage consumer makes on every
// body (ConsumerReads). Tests of the webhook channel and of the services
// that write events use it.
package webhooktest

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

//go:embed testdata/*.json
var captures embed.FS

// Kinds of Statuspage webhook bodies.
const (
	KindIncident  = "incident"  // webhook-incident*.json
	KindComponent = "component" // webhook-component*.json
)

// Shape maps each key path of one or more JSON bodies to the JSON types
// seen there. Paths start at "$"; ".key" enters an object, "[]" stands for
// every element of an array. Types are object, array, string, number,
// boolean and null.
type Shape map[string]map[string]bool

// Captures is the merged shape of every capture of kind: what Statuspage
// itself sends for it (a field one capture has as null and another as a
// string may be either).
func Captures(kind string) (Shape, error) {
	names, err := captures.ReadDir("testdata")
	if err != nil {
		return nil, err
	}
	s := Shape{}
	for _, e := range names {
		if !strings.HasPrefix(e.Name(), "webhook-"+kind) || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		raw, err := captures.ReadFile(path.Join("testdata", e.Name()))
		if err != nil {
			return nil, err
		}
		if err := s.Add(raw); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("webhooktest: no capture of kind %q", kind)
	}
	return s, nil
}

// Capture returns one capture's bytes by file name.
func Capture(name string) ([]byte, error) { return captures.ReadFile(path.Join("testdata", name)) }

// Add merges the key paths and types of body into s.
func (s Shape) Add(body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	s.walk("$", v)
	return nil
}

func (s Shape) walk(p string, v any) {
	if s[p] == nil {
		s[p] = map[string]bool{}
	}
	s[p][JSONType(v)] = true
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			s.walk(p+"."+k, e)
		}
	case []any:
		for _, e := range v {
			s.walk(p+"[]", e)
		}
	}
}

// JSONType names the JSON type of a value decoded by encoding/json into
// an any: object, array, string, number, boolean or null.
func JSONType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

// Compare lists how body falls short of the captures' shape s, one line a
// problem, none when it has every key path of s with a type s has there:
//   - a path s has only as null (Statuspage's empty value of a text or a
//     time) may be a string in body;
//   - a path may be missing from body only below a value that body has
//     as null where s allows null (affected_components: null has no
//     elements); an array s has with elements must have elements in body,
//     so "incident_updates": [] is a problem;
//   - unless extra is set, a path s does not have is a problem too.
func (s Shape) Compare(body []byte, extra bool) []string {
	got := Shape{}
	if err := got.Add(body); err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	var out []string
	for _, p := range sortedPaths(s) {
		want := s[p]
		have, ok := got[p]
		if !ok {
			if !nulledAbove(s, got, p) {
				out = append(out, fmt.Sprintf("%s: missing (the captures have %s)", p, types(want)))
			}
			continue
		}
		for t := range have {
			if !want[t] && !(t == "string" && onlyNull(want)) {
				out = append(out, fmt.Sprintf("%s: %s, the captures have %s", p, t, types(want)))
			}
		}
	}
	if !extra {
		for _, p := range sortedPaths(got) {
			if _, ok := s[p]; !ok {
				out = append(out, fmt.Sprintf("%s: not in the captures", p))
			}
		}
	}
	return out
}

// nulledAbove reports whether a path missing from got lies below a value
// got has only as null, where s allows null.
func nulledAbove(s, got Shape, p string) bool {
	for p = parent(p); p != ""; p = parent(p) {
		if have, ok := got[p]; ok {
			return onlyNull(have) && s[p]["null"]
		}
	}
	return false
}

func parent(p string) string {
	if strings.HasSuffix(p, "[]") {
		return strings.TrimSuffix(p, "[]")
	}
	if i := strings.LastIndexByte(p, '.'); i > 0 {
		return p[:i]
	}
	return ""
}

func onlyNull(t map[string]bool) bool { return len(t) == 1 && t["null"] }

func types(t map[string]bool) string {
	var l []string
	for k := range t {
		l = append(l, k)
	}
	slices.Sort(l)
	return strings.Join(l, " or ")
}

func sortedPaths(s Shape) []string {
	l := make([]string, 0, len(s))
	for p := range s {
		l = append(l, p)
	}
	slices.Sort(l)
	return l
}

// Indicators are the values of page.status_indicator.
var Indicators = []string{"none", "minor", "major", "critical", "maintenance"}

// ConsumerReads replays what consumers of Statuspage webhooks read, as
// Zulip's Statuspage integration does (and its Python would raise
// KeyError, IndexError or TypeError where this returns an error):
// page.status_indicator and page.status_description always; for a body
// with an incident, its name and status, incident_updates[0].body and
// each incident.components[*].status; for one with a component, its name
// and component_update's old and new status.
func ConsumerReads(body []byte) error {
	var b map[string]any
	if err := json.Unmarshal(body, &b); err != nil {
		return err
	}
	page, err := object(b, "page")
	if err != nil {
		return err
	}
	ind, err := str(page, "status_indicator")
	if err != nil {
		return err
	}
	if !slices.Contains(Indicators, ind) {
		return fmt.Errorf("page.status_indicator %q is none of %v", ind, Indicators)
	}
	if _, err := str(page, "status_description"); err != nil {
		return err
	}
	if _, ok := b["incident"]; ok {
		inc, err := object(b, "incident")
		if err != nil {
			return err
		}
		for _, k := range []string{"name", "status"} {
			if _, err := str(inc, k); err != nil {
				return err
			}
		}
		ups, _ := inc["incident_updates"].([]any)
		if len(ups) == 0 {
			return errors.New("incident.incident_updates[0]: no such element")
		}
		u0, ok := ups[0].(map[string]any)
		if !ok {
			return errors.New("incident.incident_updates[0] is no object")
		}
		if _, err := str(u0, "body"); err != nil {
			return fmt.Errorf("incident_updates[0]: %w", err)
		}
		comps, ok := inc["components"].([]any)
		if !ok {
			return errors.New("incident.components is no array")
		}
		for i, c := range comps {
			co, ok := c.(map[string]any)
			if !ok {
				return fmt.Errorf("incident.components[%d] is no object", i)
			}
			if _, err := str(co, "status"); err != nil {
				return fmt.Errorf("incident.components[%d]: %w", i, err)
			}
		}
		return nil
	}
	comp, err := object(b, "component")
	if err != nil {
		return fmt.Errorf("neither incident nor component: %w", err)
	}
	if _, err := str(comp, "name"); err != nil {
		return err
	}
	cu, err := object(b, "component_update")
	if err != nil {
		return err
	}
	for _, k := range []string{"old_status", "new_status"} {
		if _, err := str(cu, k); err != nil {
			return err
		}
	}
	return nil
}

func object(m map[string]any, k string) (map[string]any, error) {
	v, ok := m[k].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: missing or no object", k)
	}
	return v, nil
}

func str(m map[string]any, k string) (string, error) {
	v, ok := m[k].(string)
	if !ok {
		return "", fmt.Errorf("%s: missing or no string", k)
	}
	return v, nil
}
