package email

import (
	"bytes"
	"strings"
	"sync"

	gomail "github.com/emersion/go-message/mail"

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
	// frameOnce decides, at the event's first substituted message, whether
	// frame writes the event's message bodies (see frame).
	frameOnce sync.Once
	frame     *frame
}

// rendering is one recipient's subject and bodies.
type rendering struct {
	subject    string
	text, html string // when rendered, not substituted
	// ev is the event's entry when the links were substituted into its
	// texts; the bodies are then made only when asked for (a frame
	// writes them without).
	ev            *renderedEvent
	manage, unsub string
}

// frame returns the event's frame when it writes this recipient's
// message: the event's links were substituted, and the frame wrote the
// event's first such message exactly as go-message wrote it (h is that
// message's header). nil means writing the message whole.
func (r *rendering) frame(h gomail.Header) *frame {
	if r.ev == nil {
		return nil
	}
	e := r.ev
	e.frameOnce.Do(func() {
		f := newFrame(e.text, e.html)
		if f == nil {
			return
		}
		text, html := r.bodies()
		var whole, framed bytes.Buffer
		if writeBody(&whole, h, text, html) != nil || f.write(&framed, h, r.manage, r.unsub) != nil {
			return
		}
		// go-message picks a new boundary for every message.
		if b, _ := boundaryOf(whole.Bytes()); b != nil && bytes.Equal(bytes.ReplaceAll(whole.Bytes(), b, []byte(f.boundary)), framed.Bytes()) {
			e.frame = f
		}
	})
	return e.frame
}

// bodies returns the text and HTML bodies.
func (r *rendering) bodies() (text, html string) {
	if r.ev == nil {
		return r.text, r.html
	}
	return putLinks(r.ev.text, r.manage, r.unsub), putLinks(r.ev.html, r.manage, r.unsub)
}

// Placeholders: plain URLs (see plainURL) that no real link contains.
const (
	manageHolder = "https://placeholder.herald.invalid/manage-9c1f0e7a"
	unsubHolder  = "https://placeholder.herald.invalid/unsubscribe-4b8d2e61"
)

// render returns ev's subject, text and HTML for a recipient with these
// links.
func (c *renderCache) render(tmpl *templates.Set, ev *gateway.Event, manage, unsub string) (*rendering, error) {
	direct := func() (*rendering, error) {
		s, t, h, err := tmpl.RenderEmail(string(ev.Type), templates.NewEmailData(ev, manage, unsub))
		if err != nil {
			return nil, err
		}
		return &rendering{subject: s, text: t, html: h}, nil
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
	var first *rendering
	var err error
	r.once.Do(func() {
		r.subject, r.text, r.html, err = tmpl.RenderEmail(string(ev.Type), templates.NewEmailData(ev, manageHolder, unsubHolder))
		if err != nil {
			return
		}
		if first, err = direct(); err != nil {
			return
		}
		r.ok = putLinks(r.subject, manage, unsub) == first.subject && putLinks(r.text, manage, unsub) == first.text &&
			putLinks(r.html, manage, unsub) == first.html
	})
	if first != nil || err != nil {
		return first, err
	}
	if !r.ok {
		return direct()
	}
	return &rendering{subject: putLinks(r.subject, manage, unsub), ev: r, manage: manage, unsub: unsub}, nil
}

// putLinks puts the links into s, in place of the placeholders. A NewReplacer
// per message would cost more than it saves.
func putLinks(s, manage, unsub string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, manageHolder, manage), unsubHolder, unsub)
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
