package email

import (
	"strings"
	"sync"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/templates"
)

// A fan-out renders one event for thousands of recipients who differ only
// in their two links. renderCache renders an event once with placeholder
// links and, per recipient, puts the real links in: the templates run once
// per event instead of once per message.
//
// It is used only where substituting is provably the same as rendering:
// the recipient's links are non-empty and made of characters that no
// template escaper changes (see plainURL), and, once per event, the
// substituted text of its first recipient is compared with a real
// rendering; any difference (a template that does more with a link than
// print it) turns the cache off for that event.
//
// Entries are keyed by the event value, not its id: the dispatcher loads
// each event once per claimed batch and shares it among the batch's
// messages, so a cached text can never outlive what it was rendered from.
type renderCache struct {
	mu     sync.Mutex
	events map[*gateway.Event]*renderedEvent
}

// maxCachedEvents bounds the cache: a few batches in flight at a time are
// the case it serves; past the bound it starts again.
const maxCachedEvents = 64

type renderedEvent struct {
	once                sync.Once
	ok                  bool // substitution matches rendering
	subject, text, html string
}

// Placeholders: plain URLs (see plainURL) that no real link contains.
const (
	manageHolder = "https://placeholder.herald.invalid/manage-9c1f0e7a"
	unsubHolder  = "https://placeholder.herald.invalid/unsubscribe-4b8d2e61"
)

// render returns ev's subject, text and HTML for a recipient with these
// links.
func (c *renderCache) render(tmpl *templates.Set, ev *gateway.Event, manage, unsub string) (subject, text, html string, err error) {
	direct := func() (string, string, string, error) {
		return tmpl.RenderEmail(string(ev.Type), templates.NewEmailData(ev, manage, unsub))
	}
	if !plainURL(manage) || !plainURL(unsub) {
		return direct()
	}
	c.mu.Lock()
	if c.events == nil || len(c.events) >= maxCachedEvents {
		c.events = map[*gateway.Event]*renderedEvent{}
	}
	r := c.events[ev]
	if r == nil {
		r = &renderedEvent{}
		c.events[ev] = r
	}
	c.mu.Unlock()
	var first bool
	r.once.Do(func() {
		first = true
		r.subject, r.text, r.html, err = tmpl.RenderEmail(string(ev.Type), templates.NewEmailData(ev, manageHolder, unsubHolder))
		if err != nil {
			return
		}
		subject, text, html, err = direct()
		if err != nil {
			return
		}
		s2, t2, h2 := r.fill(manage, unsub)
		r.ok = s2 == subject && t2 == text && h2 == html
	})
	if first || err != nil {
		return subject, text, html, err
	}
	if !r.ok {
		return direct()
	}
	subject, text, html = r.fill(manage, unsub)
	return subject, text, html, nil
}

func (r *renderedEvent) fill(manage, unsub string) (subject, text, html string) {
	put := func(s string) string { // a NewReplacer per message would cost more than it saves
		return strings.ReplaceAll(strings.ReplaceAll(s, manageHolder, manage), unsubHolder, unsub)
	}
	return put(r.subject), put(r.text), put(r.html)
}

// plainURL reports an absolute http(s) URL made only of letters, digits
// and - . _ ~ : / ? = : text every escaper (HTML text, attribute, URL
// normalisation) leaves as it is. Herald's own links, a public URL and a
// base64url token, are such.
func plainURL(s string) bool {
	if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~:/?=", c) >= 0) {
			return false
		}
	}
	return true
}
