// Package templates holds the words of every message Herald sends: the
// embedded default templates of each event type (an email's subject, its
// text and HTML variants sharing one layout, and the text of a Slack
// message) and the code that parses them once at start-up and renders them.
//
// An operator replaces any default by putting a file of the same relative
// path in the override directory (templates_dir), for instance
// templates_dir/email/incident.created.html.tmpl or
// templates_dir/email/layout.html.tmpl. Load refuses a broken override, or
// one that replaces nothing, with an error that names the file and the line.
//
// Subjects, text bodies and Slack texts use text/template; HTML bodies use
// html/template, so everything a person wrote (update bodies, names) is
// escaped, and update bodies stay plain text with their line breaks kept.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	texttemplate "text/template"

	"github.com/heraldstatus/herald/gateway"
)

//go:embed email/*.tmpl slack/*.tmpl
var defaults embed.FS

// ErrUnknown is returned (wrapped) for a template name that is not an
// event type with templates.
var ErrUnknown = errors.New("templates: no such template")

// The layouts every email body of a kind shares, and the partials its pages
// call; a page template defines "content" (and may redefine "preheader" and
// "footer"). Partials are a file of their own so that an overriding layout
// does not have to repeat them.
const (
	layoutText   = "email/layout.txt.tmpl"
	layoutHTML   = "email/layout.html.tmpl"
	partialsText = "email/partials.txt.tmpl"
	partialsHTML = "email/partials.html.tmpl"
)

var eventTypes = []gateway.EventType{
	gateway.EventIncidentCreated, gateway.EventIncidentUpdated, gateway.EventIncidentResolved,
	gateway.EventIncidentPostmortem, gateway.EventIncidentUpdateDue, gateway.EventComponentStatus,
	gateway.EventMaintenanceScheduled, gateway.EventMaintenanceStarted, gateway.EventMaintenanceCompleted,
	gateway.EventBroadcast, gateway.EventSubscriberConfirm, gateway.EventTest,
}

// EventTypes returns the event types that have templates, which is every
// event type of package gateway; the names of templates are these strings.
func EventTypes() []gateway.EventType { return append([]gateway.EventType(nil), eventTypes...) }

// Set is the parsed templates of every event type. It is safe for
// concurrent use; Load returns it ready, and nothing changes it afterwards.
type Set struct {
	subject map[string]*texttemplate.Template
	text    map[string]*texttemplate.Template
	html    map[string]*htmltemplate.Template
	slack   map[string]*texttemplate.Template
}

// Load parses the embedded defaults, each replaced by the file of the same
// relative path under overrideDir when there is one ("" means no
// overrides), and renders every template once with Sample data. It fails,
// naming the file and the line, when an override does not parse, fails to
// render, or replaces no default template (a misspelt name would otherwise
// be ignored without a word).
func Load(overrideDir string) (*Set, error) {
	files, err := sources(overrideDir)
	if err != nil {
		return nil, err
	}
	s := &Set{
		subject: map[string]*texttemplate.Template{},
		text:    map[string]*texttemplate.Template{},
		html:    map[string]*htmltemplate.Template{},
		slack:   map[string]*texttemplate.Template{},
	}
	textBase, err := parseText(nil, files[layoutText])
	if err == nil {
		textBase, err = parseText(textBase, files[partialsText])
	}
	if err != nil {
		return nil, err
	}
	htmlBase, err := parseHTML(nil, files[layoutHTML])
	if err == nil {
		htmlBase, err = parseHTML(htmlBase, files[partialsHTML])
	}
	if err != nil {
		return nil, err
	}
	for _, et := range eventTypes {
		name := string(et)
		if s.subject[name], err = parseText(nil, files["email/"+name+".subject.tmpl"]); err != nil {
			return nil, err
		}
		if s.text[name], err = parseText(textBase, files["email/"+name+".txt.tmpl"]); err != nil {
			return nil, err
		}
		if s.html[name], err = parseHTML(htmlBase, files["email/"+name+".html.tmpl"]); err != nil {
			return nil, err
		}
		if s.slack[name], err = parseText(nil, files["slack/"+name+".tmpl"]); err != nil {
			return nil, err
		}
	}
	if err := s.check(files); err != nil {
		return nil, err
	}
	return s, nil
}

// source is one template file: its path relative to the template root,
// where it came from (for error messages) and its text.
type source struct {
	rel, origin, text string
}

// sources reads the defaults and lays the overrides over them.
func sources(overrideDir string) (map[string]source, error) {
	files := map[string]source{}
	err := fs.WalkDir(defaults, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := defaults.ReadFile(p)
		files[p] = source{rel: p, origin: "embedded " + p, text: string(b)}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("templates: read defaults: %w", err)
	}
	if overrideDir == "" {
		return files, nil
	}
	if _, err := os.Stat(overrideDir); err != nil {
		return nil, fmt.Errorf("templates: override directory: %w", err)
	}
	for _, dir := range []string{"email", "slack"} {
		names, err := filepath.Glob(filepath.Join(overrideDir, dir, "*.tmpl"))
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		for _, name := range names {
			rel := path.Join(dir, filepath.Base(name))
			if _, ok := files[rel]; !ok {
				return nil, fmt.Errorf("templates: %s: replaces no default template (want one of the names under %s/ in the embedded defaults)", name, dir)
			}
			b, err := os.ReadFile(name)
			if err != nil {
				return nil, fmt.Errorf("templates: override: %w", err)
			}
			files[rel] = source{rel: rel, origin: name, text: string(b)}
		}
	}
	return files, nil
}

// tmpl is what text/template and html/template have in common.
type tmpl[T any] interface {
	Clone() (T, error)
	New(name string) T
	Parse(text string) (T, error)
}

// parse parses src into a clone of base, or into fresh(src.rel) when
// there is no base. Template names are relative paths, so parse errors
// read "template: email/x.txt.tmpl:12: …"; the wrapping names the real file.
func parse[T tmpl[T]](base T, hasBase bool, fresh func(name string) T, src source) (T, error) {
	t := fresh(src.rel)
	if hasBase {
		c, err := base.Clone()
		if err != nil {
			return t, fmt.Errorf("templates: %s: %w", src.origin, err)
		}
		t = c.New(src.rel)
	}
	if _, err := t.Parse(src.text); err != nil {
		return t, fmt.Errorf("templates: %s: %w", src.origin, err)
	}
	return t, nil
}

func freshText(name string) *texttemplate.Template {
	return texttemplate.New(name).Funcs(funcs()).Option("missingkey=error")
}

func freshHTML(name string) *htmltemplate.Template {
	return htmltemplate.New(name).Funcs(funcs()).Option("missingkey=error")
}

func parseText(base *texttemplate.Template, src source) (*texttemplate.Template, error) {
	return parse(base, base != nil, freshText, src)
}

func parseHTML(base *htmltemplate.Template, src source) (*htmltemplate.Template, error) {
	return parse(base, base != nil, freshHTML, src)
}

// check renders every template with its sample data, so that an override
// that parses but cannot render (a misspelt field) stops start-up rather
// than the first delivery.
func (s *Set) check(files map[string]source) error {
	for _, et := range eventTypes {
		data, err := Sample(et)
		if err != nil {
			return err
		}
		name := string(et)
		if _, _, _, err := s.RenderEmail(name, data); err != nil {
			return origins(err, files)
		}
		if _, err := s.RenderSlack(name, data); err != nil {
			return origins(err, files)
		}
	}
	return nil
}

// origins prefixes a render error with the real path of an override, which
// the template error names only by its relative path.
func origins(err error, files map[string]source) error {
	msg := err.Error()
	for rel, src := range files {
		if strings.Contains(msg, rel+":") && src.origin != "embedded "+rel {
			return fmt.Errorf("templates: %s: %w", src.origin, err)
		}
	}
	return err
}

// RenderEmail renders the email of the event type name for data: a
// one-line subject (whitespace, including any line break a template
// produced, collapsed to single spaces, so it is safe in a header), the
// text body and the HTML body. The error wraps ErrUnknown for a name
// without templates.
func (s *Set) RenderEmail(name string, data EmailData) (subject, text, html string, err error) {
	st, ok := s.subject[name]
	if !ok {
		return "", "", "", fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	var b bytes.Buffer
	if err := st.Execute(&b, data); err != nil {
		return "", "", "", fmt.Errorf("templates: render subject: %w", err)
	}
	subject = strings.Join(strings.Fields(b.String()), " ")
	if subject == "" {
		return "", "", "", fmt.Errorf("templates: %s: the subject renders empty", st.Name())
	}
	b.Reset()
	if err := s.text[name].ExecuteTemplate(&b, layoutText, data); err != nil {
		return "", "", "", fmt.Errorf("templates: render text: %w", err)
	}
	text = tidyText(b.String())
	b.Reset()
	if err := s.html[name].ExecuteTemplate(&b, layoutHTML, data); err != nil {
		return "", "", "", fmt.Errorf("templates: render html: %w", err)
	}
	return subject, text, b.String(), nil
}

// RenderSlack renders the Slack message text (Slack's mrkdwn) of the event
// type name. Text a person wrote reaches the template with Slack's control
// characters (&, <, >) escaped, so it cannot forge links or mentions.
func (s *Set) RenderSlack(name string, data EmailData) (string, error) {
	t, ok := s.slack[name]
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, slackEscaped(data)); err != nil {
		return "", fmt.Errorf("templates: render slack: %w", err)
	}
	return strings.TrimSpace(tidyText(b.String())), nil
}

// tidyText trims trailing spaces from every line, squeezes runs of blank
// lines (left by template actions) to one, and ends the text with one line
// break, so text templates can be laid out for reading.
func tidyText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := lines[:0]
	blank := true // drop leading blank lines
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n"
}
