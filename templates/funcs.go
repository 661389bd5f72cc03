package templates

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// funcs are the helpers every template may call. They are the same for the
// text and the HTML variants; html/template escapes what they return.
func funcs() map[string]any {
	return map[string]any{
		"statusWord":      StatusWord,
		"componentStatus": ComponentStatusWord,
		"incidentColor":   incidentColor,
		"componentColor":  componentColor,
		"datetime":        Datetime,
		"affected":        Affected,
		"paragraphs":      Paragraphs,
		"isMaintenance":   func(in *gateway.IncidentSnapshot) bool { return in != nil && in.Kind == "maintenance" },
		"dict":            dict,
	}
}

// dict builds a map from key, value pairs, to pass several values to a
// partial: {{template "button" (dict "URL" .URL "Label" "View incident")}}.
func dict(pairs ...any) (map[string]any, error) {
	if len(pairs)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments (%d)", len(pairs))
	}
	m := make(map[string]any, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		k, ok := pairs[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", pairs[i])
		}
		m[k] = pairs[i+1]
	}
	return m, nil
}

var statusWords = map[gateway.IncidentStatus]string{
	gateway.Investigating:         "Investigating",
	gateway.Identified:            "Identified",
	gateway.Monitoring:            "Monitoring",
	gateway.Resolved:              "Resolved",
	gateway.Postmortem:            "Postmortem",
	gateway.MaintenanceScheduled:  "Scheduled",
	gateway.MaintenanceInProgress: "In progress",
	gateway.MaintenanceVerifying:  "Verifying",
	gateway.MaintenanceCompleted:  "Completed",
}

// StatusWord returns the word a status page shows for an incident or
// maintenance status ("Investigating", "In progress"); an unknown status is
// returned as it is.
func StatusWord(s gateway.IncidentStatus) string { return pick(statusWords, s, string(s)) }

// pick returns m[k], or def when m has no k.
func pick[K comparable](m map[K]string, k K, def string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return def
}

var componentWords = map[gateway.ComponentStatus]string{
	gateway.Operational:         "Operational",
	gateway.DegradedPerformance: "Degraded performance",
	gateway.PartialOutage:       "Partial outage",
	gateway.MajorOutage:         "Major outage",
	gateway.UnderMaintenance:    "Under maintenance",
}

// ComponentStatusWord returns the words for a component status ("Major
// outage"); an unknown status is returned as it is.
func ComponentStatusWord(s gateway.ComponentStatus) string {
	return pick(componentWords, s, string(s))
}

var incidentColors = map[gateway.IncidentStatus]string{
	gateway.Investigating:        "#c0392b",
	gateway.Identified:           "#d35400",
	gateway.Monitoring:           "#2471a3",
	gateway.Resolved:             "#1e8449",
	gateway.Postmortem:           "#1e8449",
	gateway.MaintenanceCompleted: "#1e8449",
}

// incidentColor is the badge colour of a status; maintenance in its other
// states is grey.
func incidentColor(s gateway.IncidentStatus) string { return pick(incidentColors, s, "#5b6b7c") }

var componentColors = map[gateway.ComponentStatus]string{
	gateway.Operational:         "#1e8449",
	gateway.DegradedPerformance: "#b7950b",
	gateway.PartialOutage:       "#d35400",
	gateway.MajorOutage:         "#c0392b",
}

// componentColor is the colour of a component status; under maintenance
// is blue.
func componentColor(s gateway.ComponentStatus) string { return pick(componentColors, s, "#2471a3") }

// Datetime formats t as status pages do, always in UTC:
// "Sep 16, 2021 - 13:54 UTC". The zero time formats as "".
func Datetime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("Jan 2, 2006 - 15:04 MST")
}

// Affected lists components the way a status page's incident footer does:
// grouped components as "Group (A, B)", lone ones by name, in the order
// they first appear, joined with commas and a final "and":
// "Eptura Workplace Modules (Space Module, Move Module) and Apps
// (Hummingbird App)".
func Affected(cs []gateway.ComponentChange) string {
	var order []string               // group keys and lone component names, in order
	members := map[string][]string{} // group key → member names
	for _, c := range cs {
		key := c.Name
		if c.Group != "" {
			key = "\x00" + c.Group // a group never collides with a component's name
		}
		if _, seen := members[key]; !seen {
			order = append(order, key)
		}
		members[key] = append(members[key], c.Name)
	}
	parts := make([]string, len(order))
	for i, key := range order {
		if group, ok := strings.CutPrefix(key, "\x00"); ok {
			parts[i] = group + " (" + strings.Join(members[key], ", ") + ")"
		} else {
			parts[i] = key
		}
	}
	return joinAnd(parts)
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

var blankLines = regexp.MustCompile(`\n[ \t]*\n\s*`)

// Paragraphs splits plain text into paragraphs (separated by blank lines),
// each a list of its lines, so an HTML template can keep the author's line
// breaks while html/template escapes every word. Trailing spaces and
// surrounding blank lines are dropped.
func Paragraphs(s string) [][]string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" {
		return nil
	}
	var out [][]string
	for _, p := range blankLines.Split(s, -1) {
		lines := strings.Split(p, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " \t\r")
		}
		out = append(out, lines)
	}
	return out
}
