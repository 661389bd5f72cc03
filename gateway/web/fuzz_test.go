package web

import (
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// Markup a browser would run in sanitized Markdown output: an active
// element, or, in any tag, an event handler or a link to a scheme that
// runs code. Attributes are read one by one, so text that merely looks
// like one (in a paragraph, or inside a quoted value) is not taken for it.
var (
	activeElement = regexp.MustCompile(`(?i)<\s*/?\s*(script|iframe|object|embed|style|form|input|meta|link|base|svg|math)\b`)
	tagRE         = regexp.MustCompile(`(?i)<[a-z][^>]*>`)
	attrRE        = regexp.MustCompile(`(?i)\s([a-z][a-z0-9:_-]*)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)`)
	fuzzMD        = newMarkdown()
)

// runnable returns the first piece of out that would run code, or "".
func runnable(out string) string {
	if m := activeElement.FindString(out); m != "" {
		return m
	}
	for _, tag := range tagRE.FindAllString(out, -1) {
		for _, a := range attrRE.FindAllStringSubmatch(tag, -1) {
			name := strings.ToLower(a[1])
			value := strings.ToLower(html.UnescapeString(strings.Trim(a[2], `"'`)))
			value = strings.Map(func(r rune) rune {
				if r <= ' ' {
					return -1 // browsers skip these inside a scheme
				}
				return r
			}, value)
			switch {
			case strings.HasPrefix(name, "on"):
				return tag
			case name == "href" || name == "src" || name == "action" || name == "formaction" || name == "xlink:href":
				for _, scheme := range []string{"javascript:", "vbscript:", "data:"} {
					if strings.HasPrefix(value, scheme) {
						return tag
					}
				}
			}
		}
	}
	return ""
}

// FuzzMarkdown: whatever support writes (or pastes) into a postmortem, the
// rendered HTML carries no script, no active element, no event handler and
// no javascript:, vbscript: or data: link.
func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{
		"**Root cause:** DNS.\n\n- one\n- [report](https://example.com/rca)",
		"<script>alert(1)</script>",
		"<img src=x onerror=alert(1)>",
		"[x](javascript:alert(1))",
		"[x](JaVaScRiPt&#58;alert(1))",
		"![y](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
		"<a href=\"javascript:alert(1)\">x</a>",
		"<svg onload=alert(1)>",
		"<iframe src=\"https://evil.example\"></iframe>",
		"```html\n<script>alert(1)</script>\n```",
		"| a | b |\n|---|---|\n| <b onmouseover=alert(1)>x</b> | y |",
		"<style>body{display:none}</style>",
		"[a](<javascript:alert(1)>)",
		"<http://example.com/\" onclick=\"alert(1)>",
		"- [ ] task\n- [x] done",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 8<<10 {
			return // postmortems are short; huge inputs only slow the fuzzer
		}
		out := string(fuzzMD.HTML(src))
		if m := runnable(out); m != "" {
			t.Fatalf("Markdown %q renders %q: %s", src, m, out)
		}
	})
}

// FuzzSubscribeForm: whatever a form post holds, the component picker
// either refuses it with a field error the form can word, or reads a
// choice that is all components or at least one component or group.
func FuzzSubscribeForm(f *testing.F) {
	for _, s := range []string{
		"email=ann%40example.com&scope=all",
		"email=ann%40example.com&scope=some&components=c1&components=c2&groups=g1",
		"scope=some",
		"scope=some&components=",
		"scope=some&components=%00&groups=%ZZ",
		"scope=all&components=c1",
		"email=%3Cscript%3E&scope=some&groups=g",
		"&&&=&scope=some;components=x",
	} {
		f.Add(s)
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/subscribe", strings.NewReader(body))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
		c := e.NewContext(req, httptest.NewRecorder())
		all, comps, groups, err := chosen(c)
		if err != nil {
			if fieldMessage(err) == "" {
				t.Fatalf("form %q: error %v has no message for the form", body, err)
			}
			return
		}
		if all && (len(comps) > 0 || len(groups) > 0) {
			t.Fatalf("form %q: all components and a list (%v %v)", body, comps, groups)
		}
		if !all && len(comps) == 0 && len(groups) == 0 {
			t.Fatalf("form %q: nothing chosen, yet no error", body)
		}
	})
}

// TestRunnable: the fuzz target's judge finds what runs and passes what
// only looks like it, so its silence means something.
func TestRunnable(t *testing.T) {
	for out, live := range map[string]bool{
		`<a href="javascript:alert(1)">x</a>`:            true,
		`<a href=" JaVa&#x09;Script:alert(1)">x</a>`:     true,
		`<img src=x onerror=alert(1)>`:                   true,
		`<p>x</p><script>alert(1)</script>`:              true,
		`<img src="data:text/html,x">`:                   true,
		`<p>href=javascript:0 onclick=1</p>`:             false,
		`<a title="onclick=1" href="https://x.example">`: false,
		`<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>`:   false,
	} {
		if got := runnable(out) != ""; got != live {
			t.Errorf("runnable(%q) = %v, want %v", out, got, live)
		}
	}
}
