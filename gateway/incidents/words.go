package incidents

import (
	"strings"
	"text/template"

	"github.com/heraldstatus/herald/gateway"
)

// The words automation writes into an incident's timeline. They are
// templates so that the wording is data, not code; each receives a
// wordsData.
var words = template.Must(template.New("words").Funcs(template.FuncMap{
	"list": listNames,
}).Parse(`
{{define "investigating"}}We are investigating a problem affecting {{list .Components}}. We will post an update as soon as we know more.{{end}}
{{define "investigating-root"}}{{if .Inferred}}We are investigating a problem affecting {{list .Components}}. {{if eq (len .Components) 1}}It depends{{else}}They all depend{{end}} on {{.Cause}}, the probable cause.{{else}}We are investigating a problem with {{.Cause}}, which affects {{list .Components}}.{{end}} We will post an update as soon as we know more.{{end}}
{{define "confirmed"}}We have confirmed the cause: a problem with {{.Cause}}, which affects {{list .Components}}. We are still investigating.{{end}}
{{define "worse"}}The problem affecting {{list .Components}} has become worse. We are still investigating.{{end}}
{{define "joined"}}The problem now also affects {{list .Components}}. We are still investigating.{{end}}
{{define "monitoring"}}{{list .Components}} {{if eq (len .Components) 1}}is{{else}}are{{end}} operating normally again. We are monitoring the situation.{{end}}
{{define "reopened"}}The problem affecting {{list .Components}} has returned. We are investigating.{{end}}
{{define "resolved"}}This incident has been resolved: {{list .Components}} {{if eq (len .Components) 1}}has{{else}}have{{end}} been operating normally for {{.Quiet}}.{{end}}
`))

type wordsData struct {
	Components []string
	Quiet      string
	// Cause names an incident's root cause; Inferred says it is probable.
	Cause    string
	Inferred bool
}

func say(name string, d wordsData) string {
	var b strings.Builder
	if err := words.ExecuteTemplate(&b, name, d); err != nil {
		return name // the templates are fixed and tested; this cannot happen
	}
	return strings.TrimSpace(b.String())
}

// listNames writes "A", "A and B", "A, B and C", or "A, B and 9 more".
func listNames(names []string) string {
	switch n := len(names); {
	case n == 0:
		return "some of our services"
	case n == 1:
		return names[0]
	case n <= 4:
		return strings.Join(names[:n-1], ", ") + " and " + names[n-1]
	default:
		return strings.Join(names[:2], ", ") + " and " + itoa(n-2) + " more"
	}
}

func itoa(n int) string {
	s := ""
	for {
		s = string(rune('0'+n%10)) + s
		n /= 10
		if n == 0 {
			return s
		}
	}
}

// affected builds an update's affected_components from a before/after view.
func affected(names map[string]string, before, after map[string]gateway.ComponentStatus) []gateway.AffectedComponent {
	var out []gateway.AffectedComponent
	for id, now := range after {
		out = append(out, gateway.AffectedComponent{ComponentID: id, Name: names[id], OldStatus: before[id], NewStatus: now})
	}
	sortAffected(out)
	return out
}
