package templates_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/templates"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the templates' output")

func mustLoad(tb testing.TB, dir string) *templates.Set {
	tb.Helper()
	s, err := templates.Load(dir)
	if err != nil {
		tb.Fatalf("Load(%q): %v", dir, err)
	}
	return s
}

// golden compares got with testdata/name, or writes it there with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the render (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestGolden renders every template of every event type with its sample
// data and compares each part with its golden file.
func TestGolden(t *testing.T) {
	s := mustLoad(t, "")
	for _, et := range templates.EventTypes() {
		t.Run(string(et), func(t *testing.T) {
			data, err := templates.Sample(et)
			if err != nil {
				t.Fatal(err)
			}
			subject, text, html, err := s.RenderEmail(string(et), data)
			if err != nil {
				t.Fatal(err)
			}
			slack, err := s.RenderSlack(string(et), data)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, string(et)+".subject.golden", subject+"\n")
			golden(t, string(et)+".txt.golden", text)
			golden(t, string(et)+".html.golden", html)
			golden(t, string(et)+".slack.golden", slack+"\n")
			checkRender(t, et, data, subject, text, html)
		})
	}
}

// checkRender holds what must be true of every email, beyond the goldens.
func checkRender(t *testing.T, et gateway.EventType, data templates.EmailData, subject, text, html string) {
	t.Helper()
	if strings.ContainsAny(subject, "\r\n") {
		t.Errorf("subject has a line break: %q", subject)
	}
	for _, part := range []struct{ name, body string }{{"text", text}, {"html", html}} {
		if data.UnsubscribeURL != "" && !strings.Contains(part.body, data.UnsubscribeURL) {
			t.Errorf("%s lacks the unsubscribe link", part.name)
		}
		if data.ManageURL != "" && !strings.Contains(part.body, data.ManageURL) {
			t.Errorf("%s lacks the manage link", part.name)
		}
		if data.Incident != nil && !strings.Contains(part.body, data.Incident.URL) {
			t.Errorf("%s lacks the incident's link", part.name)
		}
		if strings.Contains(part.body, "ZgotmplZ") || strings.Contains(part.body, "<no value>") {
			t.Errorf("%s has an unsafe or missing value:\n%s", part.name, part.body)
		}
	}
	if !strings.Contains(html, `name="viewport"`) {
		t.Error("html lacks the viewport meta tag")
	}
	if et == gateway.EventIncidentCreated {
		for _, want := range []string{"Investigating", "Posted Sep 16, 2021 - 13:54 UTC",
			"This incident affected: Eptura Workplace Modules (Space Module, Move Module, Reservation Module, Service Request Module, Asset Module, Inventory Module, Mail Module, Copy Module, Visitor Module, Insights Module) and Apps (Hummingbird App)."} {
			if !strings.Contains(text, want) || !strings.Contains(html, want) {
				t.Errorf("incident.created lacks %q", want)
			}
		}
	}
}

// TestEscaping: what people write reaches HTML escaped, with line breaks
// kept, and Slack text with its control characters escaped.
func TestEscaping(t *testing.T) {
	s := mustLoad(t, "")
	data, err := templates.Sample(gateway.EventIncidentUpdated)
	if err != nil {
		t.Fatal(err)
	}
	up := *data.Update
	up.Body = "<script>alert(1)</script> & <b>bold</b>\nsecond line\n\nnext paragraph"
	data.Update = &up
	in := *data.Incident
	in.Name = "DNS <img src=x onerror=alert(1)>\r\nBcc: victim@example.com"
	data.Incident = &in
	subject, _, html, err := s.RenderEmail(string(gateway.EventIncidentUpdated), data)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script>", "<b>bold", "<img src=x"} {
		if strings.Contains(html, bad) {
			t.Errorf("html carries raw %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;<br>second line</p>", "<p style=\"margin:0 0 12px;\">next paragraph</p>"} {
		if !strings.Contains(html, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	if strings.ContainsAny(subject, "\r\n") {
		t.Errorf("subject = %q, has a line break", subject)
	}
	slack, err := s.RenderSlack(string(gateway.EventIncidentUpdated), data)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(slack, "<script>") || !strings.Contains(slack, "&lt;script&gt;") {
		t.Errorf("slack text not escaped:\n%s", slack)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOverride(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "email", "incident.created.subject.tmpl"), "ALERT {{.Incident.Name}}")
	writeFile(t, filepath.Join(dir, "email", "layout.txt.tmpl"), "custom layout\n{{block \"content\" .}}{{end}}")
	writeFile(t, filepath.Join(dir, "web", "index.html.tmpl"), "{{not for this package}}") // other packages' files are left alone
	s := mustLoad(t, dir)
	data, err := templates.Sample(gateway.EventIncidentCreated)
	if err != nil {
		t.Fatal(err)
	}
	subject, text, html, err := s.RenderEmail(string(gateway.EventIncidentCreated), data)
	if err != nil {
		t.Fatal(err)
	}
	if want := "ALERT " + data.Incident.Name; subject != want {
		t.Errorf("subject = %q, want %q", subject, want)
	}
	if !strings.HasPrefix(text, "custom layout\n") {
		t.Errorf("text does not use the overriding layout:\n%s", text)
	}
	if !strings.Contains(html, "Manage your subscription") {
		t.Error("html lost the default layout")
	}
}

func TestOverrideErrors(t *testing.T) {
	tests := []struct {
		name, file, text string
		want             []string // substrings of the error
	}{
		{"parse error", "email/incident.updated.html.tmpl", "{{define \"content\"}}\n<p>\n{{if .Update}}\n</p>{{end}}",
			[]string{"incident.updated.html.tmpl", ":4:", "unexpected EOF"}},
		{"unknown function", "slack/broadcast.tmpl", "line one\n{{shout .Broadcast.Body}}",
			[]string{"broadcast.tmpl", ":2:", `function "shout" not defined`}},
		{"unknown field", "email/test.txt.tmpl", "{{define \"content\"}}\n\n{{.Page.Title}}{{end}}",
			[]string{"test.txt.tmpl", ":3:", "Title"}},
		{"replaces nothing", "email/incident.create.subject.tmpl", "x",
			[]string{"incident.create.subject.tmpl", "replaces no default template"}},
		{"empty subject", "email/test.subject.tmpl", "{{/* nothing */}}",
			[]string{"test.subject.tmpl", "empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, filepath.FromSlash(tt.file))
			writeFile(t, file, tt.text)
			_, err := templates.Load(dir)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !strings.Contains(err.Error(), file) {
				t.Errorf("error %q does not name the file %s", err, file)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := templates.Load(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing dir) = %v, want os.ErrNotExist", err)
	}
}

func TestUnknown(t *testing.T) {
	s := mustLoad(t, "")
	if _, _, _, err := s.RenderEmail("incident.exploded", templates.EmailData{}); !errors.Is(err, templates.ErrUnknown) {
		t.Errorf("RenderEmail(unknown) = %v, want ErrUnknown", err)
	}
	if _, err := s.RenderSlack("incident.exploded", templates.EmailData{}); !errors.Is(err, templates.ErrUnknown) {
		t.Errorf("RenderSlack(unknown) = %v, want ErrUnknown", err)
	}
	if _, err := templates.Sample("incident.exploded"); !errors.Is(err, templates.ErrUnknown) {
		t.Errorf("Sample(unknown) = %v, want ErrUnknown", err)
	}
}

func TestAffected(t *testing.T) {
	cs := []gateway.ComponentChange{
		{Name: "API"}, {Name: "Space", Group: "Modules"}, {Name: "Move", Group: "Modules"}, {Name: "Web"}, {Name: "Hummingbird", Group: "Apps"},
	}
	tests := []struct {
		n    int
		want string
	}{
		{0, ""}, {1, "API"}, {2, "API and Modules (Space)"}, {4, "API, Modules (Space, Move) and Web"},
		{5, "API, Modules (Space, Move), Web and Apps (Hummingbird)"},
	}
	for _, tt := range tests {
		if got := templates.Affected(cs[:tt.n]); got != tt.want {
			t.Errorf("Affected(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestParagraphs(t *testing.T) {
	got := templates.Paragraphs("  one\r\ntwo  \n \n\n three\n")
	if len(got) != 2 || strings.Join(got[0], "|") != "one|two" || strings.Join(got[1], "|") != "three" {
		t.Errorf("Paragraphs = %q", got)
	}
}
