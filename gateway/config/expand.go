package config

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expandNode replaces ${VAR} and ${VAR:-default} in every scalar value below
// n (mapping keys are left alone), reporting each undefined variable with its
// line and key path. A scalar without an explicit tag is re-resolved after
// expansion, quoted or not, so "rate: ${RATE}" and, inside a flow mapping
// where braces must be quoted, {max_conns: "${CONNS}"} still decode as
// numbers; string fields keep the expanded text either way.
func (c *checker) expandNode(n *yaml.Node, path string, lookup func(string) (string, bool)) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, item := range n.Content {
			p := path
			if n.Kind == yaml.SequenceNode {
				p = fmt.Sprintf("%s[%d]", path, i)
			}
			c.expandNode(item, p, lookup)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			c.expandNode(n.Content[i+1], join(path, n.Content[i].Value), lookup)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "$") {
			return
		}
		v, errs := expand(n.Value, lookup)
		for _, err := range errs {
			c.errorf(n.Line, "%s%v", prefix(path), err)
		}
		if v == n.Value {
			return
		}
		n.Value = v
		if n.Style&yaml.TaggedStyle == 0 { // no explicit tag: let the new text pick its type
			n.Tag, n.Style = "", 0
		}
	}
}

// expand substitutes ${VAR} and ${VAR:-default} in s; "$$" is a literal "$"
// and any other "$" stays as it is. ${VAR:-default} uses default when VAR is
// unset or empty; ${VAR} with VAR unset is an error.
func expand(s string, lookup func(string) (string, bool)) (string, []error) {
	var b strings.Builder
	var errs []error
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				errs = append(errs, fmt.Errorf("unterminated ${ in %q (write $$ for a literal $)", s))
				b.WriteString(s[i:])
				return b.String(), errs
			}
			expr := s[i+2 : i+2+end]
			name, def, hasDef := strings.Cut(expr, ":-")
			v, ok := lookup(name)
			switch {
			case !envNameRE.MatchString(name):
				errs = append(errs, fmt.Errorf("invalid variable name %q in ${%s} (write $$ for a literal $)", name, expr))
			case hasDef && (!ok || v == ""):
				b.WriteString(def)
			case !ok:
				errs = append(errs, fmt.Errorf("environment variable %s is not set (use ${%s:-default} for a fallback)", name, name))
			default:
				b.WriteString(v)
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String(), errs
}
