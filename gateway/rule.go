package gateway

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MatchOp is an Alertmanager-style label matcher operator.
type MatchOp string

// Matcher operators.
const (
	MatchEqual     MatchOp = "="
	MatchNotEqual  MatchOp = "!="
	MatchRegexp    MatchOp = "=~"
	MatchNotRegexp MatchOp = "!~"
)

// Matcher tests one label. Regular expressions are anchored at both ends, as
// in Alertmanager, so "sp.*" matches "space" but not "aerospace".
type Matcher struct {
	Name  string  `json:"name"`
	Op    MatchOp `json:"op"`
	Value string  `json:"value"`
	re    *regexp.Regexp
}

// NewMatcher builds a matcher, compiling its expression for =~ and !~.
func NewMatcher(name string, op MatchOp, value string) (Matcher, error) {
	m := Matcher{Name: name, Op: op, Value: value}
	if !validLabelName(name) {
		return m, fmt.Errorf("invalid label name %q", name)
	}
	switch op {
	case MatchEqual, MatchNotEqual:
	case MatchRegexp, MatchNotRegexp:
		re, err := regexp.Compile("^(?:" + value + ")$")
		if err != nil {
			return m, fmt.Errorf("invalid regular expression %q: %w", value, err)
		}
		m.re = re
	default:
		return m, fmt.Errorf("unknown operator %q", op)
	}
	return m, nil
}

// ParseMatcher parses `name=value`, `name!=value`, `name=~regexp` or
// `name!~regexp`; the value may be double-quoted as in Alertmanager's
// matchers ("severity=\"critical\"").
func ParseMatcher(s string) (Matcher, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, "=!")
	if i <= 0 {
		return Matcher{}, fmt.Errorf("matcher %q: want name=value, name!=value, name=~re or name!~re", s)
	}
	name, rest := strings.TrimSpace(s[:i]), s[i:]
	var op MatchOp
	for _, o := range []MatchOp{MatchRegexp, MatchNotRegexp, MatchNotEqual, MatchEqual} {
		if strings.HasPrefix(rest, string(o)) {
			op = o
			break
		}
	}
	if op == "" {
		return Matcher{}, fmt.Errorf("matcher %q: unknown operator", s)
	}
	value := strings.TrimSpace(rest[len(op):])
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		uq, err := strconv.Unquote(value)
		if err != nil {
			return Matcher{}, fmt.Errorf("matcher %q: %w", s, err)
		}
		value = uq
	}
	m, err := NewMatcher(name, op, value)
	if err != nil {
		return Matcher{}, fmt.Errorf("matcher %q: %w", s, err)
	}
	return m, nil
}

// String renders the matcher in the form ParseMatcher reads.
func (m Matcher) String() string { return m.Name + string(m.Op) + strconv.Quote(m.Value) }

// Matches reports whether labels satisfy the matcher. A missing label has
// the empty value, as in Alertmanager.
func (m Matcher) Matches(labels map[string]string) bool {
	v := labels[m.Name]
	switch m.Op {
	case MatchEqual:
		return v == m.Value
	case MatchNotEqual:
		return v != m.Value
	case MatchRegexp:
		return m.compiled().MatchString(v)
	case MatchNotRegexp:
		return !m.compiled().MatchString(v)
	}
	return false
}

func (m Matcher) compiled() *regexp.Regexp {
	if m.re == nil { // built as a literal, not through NewMatcher: compile now
		return regexp.MustCompile("^(?:" + m.Value + ")$")
	}
	return m.re
}

// UnmarshalJSON decodes a stored matcher and compiles its expression, so
// that matchers loaded from the database are as ready as fresh ones.
func (m *Matcher) UnmarshalJSON(b []byte) error {
	var raw struct {
		Name  string  `json:"name"`
		Op    MatchOp `json:"op"`
		Value string  `json:"value"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	v, err := NewMatcher(raw.Name, raw.Op, raw.Value)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Rule routes alerts to components: every matcher must match (an empty list
// matches everything). Rules are tried in Position order; the first that
// matches wins.
type Rule struct {
	ID           string    `json:"id"`
	Name         string    `json:"name,omitempty"`
	Position     int       `json:"position"`
	Matchers     []Matcher `json:"matchers"`
	ComponentIDs []string  `json:"components"`
	// SeverityStatus maps an alert severity to the status its components
	// take while it fires; severities not listed use DefaultSeverityStatus.
	SeverityStatus map[Severity]ComponentStatus `json:"severity_status"`
	Origin         Origin                       `json:"origin"`
	CreatedAt      time.Time                    `json:"created_at"`
}

// Matches reports whether every matcher of r matches labels.
func (r *Rule) Matches(labels map[string]string) bool {
	for _, m := range r.Matchers {
		if !m.Matches(labels) {
			return false
		}
	}
	return true
}

// StatusFor returns the component status an alert of severity sev causes.
func (r *Rule) StatusFor(sev Severity) ComponentStatus {
	if s, ok := r.SeverityStatus[sev]; ok {
		return s
	}
	return DefaultSeverityStatus[sev]
}

// DefaultSeverityStatus is used where a rule does not say otherwise.
var DefaultSeverityStatus = map[Severity]ComponentStatus{
	SeverityCritical: MajorOutage,
	SeverityError:    PartialOutage,
	SeverityWarning:  DegradedPerformance,
	SeverityInfo:     Operational,
}

// Route returns the first rule among rules (already in position order) that
// matches labels, or nil.
func Route(rules []Rule, labels map[string]string) *Rule {
	for i := range rules {
		if rules[i].Matches(labels) {
			return &rules[i]
		}
	}
	return nil
}
