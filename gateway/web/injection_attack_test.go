package web_test

import (
	"encoding/json"
	"encoding/xml"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/subscribers"
)

// xss is what an attacker (or a careless alert) puts in every field people
// type: a script, an event handler, a javascript: link and a broken-out
// attribute.
const xss = `<script>alert(1)</script><img src=x onerror=alert(1)>"'><a href="javascript:alert(3)">x</a>`

// live finds markup that a browser would run, in HTML that is served as
// HTML. Escaped text (&lt;script&gt;) never matches: every pattern starts
// at a real '<' or inside a real tag. Event handlers are looked for with
// quoted attribute values blanked out, so that text escaped inside a value
// (aria-label="… onerror=…") is not taken for an attribute, while an
// injection that broke out of its quotes still is.
var (
	live = []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script[^>]*>[^<]*alert`),
		regexp.MustCompile(`(?i)<[a-z][^>]*(href|src|action)\s*=\s*["']?\s*javascript:`),
		regexp.MustCompile(`(?i)<img[^>]*src\s*=\s*["']?x\b`),
	}
	handler     = regexp.MustCompile(`(?i)<[a-z][^>]*\son[a-z]+\s*=`)
	quotedValue = regexp.MustCompile(`="[^"]*"`)
)

// inert fails for each piece of live markup in body, an HTML document.
func inert(t *testing.T, what, body string) {
	t.Helper()
	for _, re := range live {
		if m := re.FindString(body); m != "" {
			t.Errorf("%s carries live markup %q", what, m)
		}
	}
	if m := handler.FindString(quotedValue.ReplaceAllString(body, `=""`)); m != "" {
		t.Errorf("%s carries an event handler: %q", what, m)
	}
}

// TestInjectionEveryFieldIsInert puts the payload in every field a person
// or an alert sets that the public side shows (a component's name,
// description and group, an incident's name, its first and later update
// bodies, its postmortem (Markdown), a maintenance's name and body, a
// subscriber's address) and checks every page, feed and JSON document that
// shows them: HTML keeps it as text, the feeds keep it as text once a
// reader decodes them, and JSON is data.
func TestInjectionEveryFieldIsInert(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		d := store.Declaration{Groups: []store.DeclaredGroup{{Name: "Group " + xss, Position: 0}},
			Components: []store.DeclaredComponent{{Name: "Comp " + xss, Group: "Group " + xss, Description: "Desc " + xss}}}
		if _, err := st.SyncConfig(e.ctx, d); err != nil {
			t.Fatal(err)
		}
		inc, err := e.svc.Create(e.ctx, support, incidents.NewIncident{Name: "Name " + xss, Status: gateway.Investigating,
			Body: "Body " + xss, Components: map[string]gateway.ComponentStatus{"Comp " + xss: gateway.MajorOutage}, Notify: true})
		if err != nil {
			t.Fatal(err)
		}
		e.advance(time.Minute)
		e.update(inc.ID, gateway.Identified, "Update **bold** "+xss+"\n\n[click](javascript:alert(4))")
		e.advance(time.Minute)
		e.update(inc.ID, gateway.Resolved, "Resolved "+xss)
		if _, err := e.svc.Postmortem(e.ctx, support, inc.ID, "# Postmortem\n\n"+xss+"\n\n<iframe src=\"javascript:alert(5)\"></iframe>", false); err != nil {
			t.Fatal(err)
		}
		maint, err := e.svc.Schedule(e.ctx, support, incidents.NewMaintenance{Name: "Maint " + xss, Body: "Maint body " + xss,
			Components: []string{"Comp " + xss}, ScheduledFor: e.clock().Add(time.Hour), ScheduledUntil: e.clock().Add(2 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}

		pages := map[string]string{"/": "", "/history": "", "/incidents/" + inc.ID: "", "/incidents/" + maint.ID: ""}
		for path := range pages {
			body := e.mustGet(path)
			inert(t, path, body)
			pages[path] = body
		}
		// The payload is there, as text: escaping, not dropping.
		wantIn(t, "the status page", pages["/"], "Comp &lt;script&gt;alert(1)&lt;/script&gt;", "Maint &lt;script&gt;")
		wantIn(t, "the permalink", pages["/incidents/"+inc.ID], "Name &lt;script&gt;alert(1)&lt;/script&gt;")

		// Feeds: decoded once, as a reader does, what is HTML to it must
		// still be inert. RSS readers take <description> as HTML; Atom
		// content is type="text".
		for _, path := range []string{"/history.atom", "/history.rss"} {
			body := e.mustGet(path)
			texts := feedTexts(t, body)
			if len(texts) == 0 {
				t.Fatalf("%s has no entries", path)
			}
			for _, x := range texts {
				if x.html {
					inert(t, path+" "+x.name, x.text)
				} else if x.typ != "" && x.typ != "text" {
					t.Errorf("%s %s has type %q, want text", path, x.name, x.typ)
				}
			}
		}

		// The Statuspage-compatible JSON: the strings are the text typed,
		// and no '<' appears raw (a JSON body sniffed as HTML runs nothing).
		for _, path := range []string{"/api/v2/summary.json", "/api/v2/incidents.json", "/api/v2/scheduled-maintenances.json", "/api/v2/components.json"} {
			res, body := e.get(path)
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
				t.Errorf("GET %s = %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
			}
			if strings.Contains(body, "<script") || strings.Contains(body, "<img") {
				t.Errorf("%s carries a raw tag", path)
			}
			if !json.Valid([]byte(body)) {
				t.Errorf("%s is not JSON", path)
			}
		}
		var summary struct {
			Components []struct{ Name, Description string }
		}
		_, body := e.get("/api/v2/summary.json")
		_ = json.Unmarshal([]byte(body), &summary)
		found := false
		for _, c := range summary.Components {
			found = found || c.Name == "Comp "+xss && c.Description == "Desc "+xss
		}
		if !found {
			t.Errorf("summary.json does not carry the component's name and description as typed: %+v", summary.Components)
		}
	})
}

// feedText is one text field of a feed: its element, its type attribute,
// its text once XML-decoded, and whether a reader takes that text as HTML.
type feedText struct {
	name, typ, text string
	html            bool
}

func feedTexts(t *testing.T, body string) []feedText {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(body))
	var out []feedText
	var stack []xml.StartElement
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			stack = append(stack, tok)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 || strings.TrimSpace(string(tok)) == "" {
				continue
			}
			el := stack[len(stack)-1]
			x := feedText{name: el.Name.Local, text: string(tok)}
			for _, a := range el.Attr {
				if a.Name.Local == "type" {
					x.typ = a.Value
				}
			}
			switch el.Name.Local {
			case "description": // RSS: HTML
				x.html = true
			case "title", "content", "summary": // Atom: text unless typed html
				x.html = x.typ == "html" || x.typ == "xhtml"
			default:
				continue
			}
			out = append(out, x)
		}
	}
	return out
}

// TestInjectionSubscriberAddress: an address is shown back on the
// subscribe pages (after a mistake, after a honeypot hit, on the manage
// page); whatever was typed, it comes back as text.
func TestInjectionSubscriberAddress(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		v := newVisitor(t, e)
		_, _, token := v.page("/subscribe")
		for _, form := range []url.Values{
			{"email": {xss}, "scope": {"all"}},                             // refused: shown back in the form
			{"email": {xss}, "scope": {"all"}, "website": {"http://spam"}}, // honeypot: thanked by address
			{"email": {`"><script>alert(1)</script>@example.com`}, "scope": {"all"}},
		} {
			form.Set("_csrf", token)
			_, body := v.post("/subscribe", form)
			inert(t, "the answer to "+form.Get("email"), body)
		}
		// A quoted local part is a valid address and may hold markup; if
		// it is accepted, its manage page shows it as text.
		svc := e.subs.Load()
		sub, err := svc.Subscribe(e.ctx, subscribers.SubscribeRequest{Email: `"<img src=x onerror=alert(1)>"@example.com`, All: true})
		if err != nil {
			if gateway.ErrorCode(err) != gateway.EUNPROCESSABLE {
				t.Fatalf("subscribe a quoted address: %v", err)
			}
			return // refused outright: nothing to render
		}
		manage, _ := svc.Links(sub)
		_, body, _ := v.page(strings.TrimPrefix(manage, e.srv.URL))
		inert(t, "the manage page", body)
		if !strings.Contains(body, html.EscapeString(sub.Address)) && !strings.Contains(body, "&lt;img") {
			t.Errorf("the manage page does not show the address as text: %.400s", body)
		}
	})
}
