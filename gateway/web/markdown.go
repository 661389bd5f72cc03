package web

import (
	"bytes"
	"html/template"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// markdown renders support's Markdown (postmortems) to HTML: GitHub's
// dialect by goldmark, then bluemonday's policy for user content, so that
// neither raw HTML nor javascript: links reach a reader's browser.
type markdown struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

func newMarkdown() *markdown {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	return &markdown{md: goldmark.New(goldmark.WithExtensions(extension.GFM)), policy: p}
}

// HTML renders src; a Markdown error (goldmark reports none for text)
// falls back to the escaped text.
func (m *markdown) HTML(src string) template.HTML {
	var buf bytes.Buffer
	if err := m.md.Convert([]byte(src), &buf); err != nil {
		return template.HTML("<p>" + template.HTMLEscapeString(src) + "</p>")
	}
	// The policy's output is safe HTML by construction: that is what the
	// conversion to template.HTML asserts.
	return template.HTML(m.policy.SanitizeBytes(buf.Bytes())) //nolint:gosec // sanitized above
}

// sharedMarkdown is the renderer Markdown uses, built once.
var sharedMarkdown = sync.OnceValue(newMarkdown)

// Markdown renders src exactly as the status page renders a postmortem;
// the support console's postmortem preview calls it, so the preview is
// what readers will see.
func Markdown(src string) template.HTML { return sharedMarkdown().HTML(src) }
