package email

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/templates"
)

// TestRenderCacheMatchesRendering renders every event type for several
// recipients through the cache and directly: the same text, whether the
// cache substituted links or (for links it cannot substitute, or a
// template that does more with a link than print it) rendered.
func TestRenderCacheMatchesRendering(t *testing.T) {
	// An override that cuts the link: substitution would differ, so the
	// cache must notice and render instead.
	def, over := defaultAndOverride(t, map[string]string{
		"broadcast.txt.tmpl": "{{define \"content\"}}{{.Broadcast.Body}} {{printf \"%.30s\" .ManageURL}} {{len .UnsubscribeURL}}{{end}}\n",
	})
	links := [][2]string{
		{"https://status.example.com/subscriptions/tok-ann", "https://status.example.com/unsubscribe/tok-ann"},
		{"https://status.example.com/subscriptions/tok-bob-longer_token", "https://status.example.com/unsubscribe/tok-bob-longer_token"},
		{"https://status.example.com/s?t=a&b=<c>", "https://status.example.com/u?t=\"x\""}, // not plain: rendered
		{"", ""}, // no links: rendered
		{"https://status.example.com/subscriptions/tok-cy", "https://status.example.com/unsubscribe/tok-cy"},
	}
	for name, set := range map[string]*templates.Set{"default": def, "override": over} {
		for _, et := range []gateway.EventType{gateway.EventBroadcast, gateway.EventIncidentCreated, gateway.EventIncidentUpdated} {
			ev, err := templates.SampleEvent(et)
			if err != nil {
				t.Fatal(err)
			}
			var c renderCache
			for _, l := range links {
				rd, err1 := c.render(set, ev, l[0], l[1])
				s2, t2, h2, err2 := set.RenderEmail(string(et), templates.NewEmailData(ev, l[0], l[1]))
				if err1 != nil || err2 != nil {
					t.Fatalf("%s %s: %v, %v", name, et, err1, err2)
				}
				s1 := rd.subject
				t1, h1 := rd.bodies()
				if s1 != s2 || t1 != t2 || h1 != h2 {
					t.Errorf("%s %s with %q: the cache's message differs from rendering:\n%s\n---\n%s", name, et, l[0], t1, t2)
				}
			}
			// The cache substitutes for the default templates and knows
			// better than to for the one that cuts links.
			wantOK := name == "default" || et != gateway.EventBroadcast
			if r := c.events[ev]; r == nil || r.ok != wantOK {
				t.Errorf("%s %s: cache entry %+v, want substitution %v", name, et, r, wantOK)
			}
		}
	}
}

// defaultAndOverride returns the default templates and a set in which
// files (names under email/) replace their defaults.
func defaultAndOverride(t *testing.T, files map[string]string) (def, over *templates.Set) {
	t.Helper()
	def, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "email"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, "email", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if over, err = templates.Load(dir); err != nil {
		t.Fatal(err)
	}
	return def, over
}
