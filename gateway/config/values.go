package config

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"go.yaml.in/yaml/v3"

	"github.com/heraldstatus/herald/gateway"
)

// Duration is a time.Duration written in YAML as a string such as "30s",
// "5m" or "1h30m" (time.ParseDuration syntax); a bare 0 is also accepted.
type Duration time.Duration

// String formats d without trailing zero units: "5m", "1h30m", "30s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// UnmarshalYAML parses a duration string; anything else is an error that
// shows the accepted form.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("must be a duration such as 30s, 5m or 1h30m (got %s)", describe(n))
	}
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil {
		return fmt.Errorf("invalid duration %q (want e.g. 30s, 5m or 1h30m)", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes d in the form UnmarshalYAML reads.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// ByteSize is a number of bytes written in YAML as an integer or a string
// such as "10MiB", "64KiB" or "1MB" (humanize.ParseBytes syntax).
type ByteSize int64

// String formats b exactly, in the largest binary unit that divides it.
func (b ByteSize) String() string {
	units := []string{"EiB", "PiB", "TiB", "GiB", "MiB", "KiB"}
	for i, u := range units {
		size := int64(1) << (10 * (len(units) - i))
		if b != 0 && int64(b)%size == 0 {
			return strconv.FormatInt(int64(b)/size, 10) + u
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// UnmarshalYAML parses a size; sizes beyond int64 are errors.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("must be a size such as 10MiB or 65536 (got %s)", describe(n))
	}
	v, err := humanize.ParseBytes(strings.TrimSpace(n.Value))
	if err != nil || v > math.MaxInt64 {
		return fmt.Errorf("invalid size %q (want e.g. 10MiB, 64KiB or 65536)", n.Value)
	}
	*b = ByteSize(v)
	return nil
}

// MarshalYAML writes b in the form UnmarshalYAML reads.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

// componentDeclYAML is the mapping form of a ComponentDecl.
type componentDeclYAML struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	DependsOn   []string `yaml:"depends_on,omitempty"`
}

func (ComponentDecl) yamlShape() any { return componentDeclYAML{} }

// UnmarshalYAML accepts a plain name or a strict {name, description}.
func (d *ComponentDecl) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*d = ComponentDecl{Name: n.Value}
		return nil
	case yaml.MappingNode:
		if err := strict(n, componentDeclYAML{}); err != nil {
			return err
		}
		var raw componentDeclYAML
		if err := n.Decode(&raw); err != nil {
			return err
		}
		*d = ComponentDecl(raw)
		return nil
	}
	return fmt.Errorf("must be a component name or {name, description} (got %s)", describe(n))
}

// MarshalYAML writes a component without a description as its bare name.
func (d ComponentDecl) MarshalYAML() (any, error) {
	if d.Description == "" && len(d.DependsOn) == 0 {
		return d.Name, nil
	}
	return componentDeclYAML(d), nil
}

// ruleYAML is a Rule as written in YAML.
type ruleYAML struct {
	Name           string         `yaml:"name,omitempty"`
	Match          matchList      `yaml:"match"`
	Components     []string       `yaml:"components"`
	SeverityStatus severityStatus `yaml:"severity_status,omitempty"`
}

func (Rule) yamlShape() any { return ruleYAML{} }

// UnmarshalYAML reads a strict rule mapping, parsing its matchers and
// normalizing severity names; a bad matcher or severity is an error.
func (r *Rule) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("must be a mapping {match, components, severity_status} (got %s)", describe(n))
	}
	if err := strict(n, ruleYAML{}); err != nil {
		return err
	}
	var raw ruleYAML
	if err := n.Decode(&raw); err != nil {
		return err
	}
	*r = Rule{Name: raw.Name, Matchers: raw.Match, Components: raw.Components, SeverityStatus: raw.SeverityStatus}
	return nil
}

// MarshalYAML writes matchers in their string form, which reads back the same.
func (r Rule) MarshalYAML() (any, error) {
	type out struct {
		Name           string                                       `yaml:"name,omitempty"`
		Match          []string                                     `yaml:"match,omitempty"`
		Components     []string                                     `yaml:"components"`
		SeverityStatus map[gateway.Severity]gateway.ComponentStatus `yaml:"severity_status,omitempty"`
	}
	o := out{Name: r.Name, Components: r.Components, SeverityStatus: r.SeverityStatus}
	for _, m := range r.Matchers {
		o.Match = append(o.Match, m.String())
	}
	return o, nil
}

// matchList reads a rule's match in either of its two forms.
type matchList []gateway.Matcher

func (ml *matchList) UnmarshalYAML(n *yaml.Node) error {
	var out matchList
	var errs []error
	switch n.Kind {
	case yaml.MappingNode:
		type pair struct {
			name string
			val  *yaml.Node
		}
		var pairs []pair
		for i := 0; i+1 < len(n.Content); i += 2 {
			pairs = append(pairs, pair{n.Content[i].Value, resolveAlias(n.Content[i+1])})
		}
		sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].name < pairs[j].name })
		for _, p := range pairs {
			if p.val.Kind != yaml.ScalarNode {
				errs = append(errs, &lineErr{p.val.Line, fmt.Errorf("label %q: value must be a string (got %s)", p.name, describe(p.val))})
				continue
			}
			m, err := gateway.NewMatcher(p.name, gateway.MatchEqual, p.val.Value)
			if err != nil {
				errs = append(errs, &lineErr{p.val.Line, err})
				continue
			}
			out = append(out, m)
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			item = resolveAlias(item)
			if item.Kind != yaml.ScalarNode {
				errs = append(errs, &lineErr{item.Line, fmt.Errorf(`must be a matcher string such as "service=~sp.*" (got %s)`, describe(item))})
				continue
			}
			m, err := gateway.ParseMatcher(item.Value)
			if err != nil {
				errs = append(errs, &lineErr{item.Line, err})
				continue
			}
			out = append(out, m)
		}
	default:
		return fmt.Errorf(`must be a mapping {label: value} or a list of matchers such as "service=~sp.*" (got %s)`, describe(n))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	*ml = out
	return nil
}

// severityStatus reads severity_status, normalizing severity aliases
// ("crit", "warn", …) with gateway.ParseSeverity.
type severityStatus map[gateway.Severity]gateway.ComponentStatus

func (ss *severityStatus) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("must be a mapping {severity: status} (got %s)", describe(n))
	}
	out := severityStatus{}
	given := map[gateway.Severity]string{}
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolveAlias(n.Content[i+1])
		sev := gateway.ParseSeverity(k.Value, "")
		switch {
		case sev == "":
			errs = append(errs, &lineErr{k.Line, fmt.Errorf("unknown severity %q (want critical, error, warning or info)", k.Value)})
			continue
		case given[sev] != "":
			errs = append(errs, &lineErr{k.Line, fmt.Errorf("severity %q given twice (as %q and %q)", sev, given[sev], k.Value)})
			continue
		case v.Kind != yaml.ScalarNode:
			errs = append(errs, &lineErr{v.Line, fmt.Errorf("%s: must be a component status (got %s)", sev, describe(v))})
			continue
		}
		given[sev] = k.Value
		out[sev] = gateway.ComponentStatus(v.Value)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	*ss = out
	return nil
}

// lineErr is a problem at a line more precise than the node being decoded.
type lineErr struct {
	line int
	err  error
}

func (e *lineErr) Error() string { return e.err.Error() }
func (e *lineErr) Unwrap() error { return e.err }

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// describe names a node's kind for messages, quoting short scalars.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		return strconv.Quote(v)
	}
	return "nothing"
}
