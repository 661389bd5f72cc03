// Package email is Herald's email channel: it builds each delivery as a
// MIME message (multipart/alternative, text and HTML from the templates
// package, with the list and threading headers mailbox providers expect)
// and hands it to an SMTP server through a pool of reused connections
// (SMTP), or writes it as an .eml file (Outbox) when no server is set.
// Both implement notify.Notifier and say whether a failure is worth
// retrying; the dispatcher retries.
//
// Headers, and why:
//   - Message-ID <delivery-<delivery id>.<event id>@<sending domain>> is
//     stable across retries of one delivery, so a receiver that sees a
//     retry of a message it already has can drop it; the event id keeps it
//     unique if delivery ids ever start again (a new database).
//   - In-Reply-To and References name the incident's thread root
//     <incident-<incident id>@<sending domain>> on every message about an
//     incident or maintenance, the first one included. No message carries
//     that id as its own Message-ID: a delivery's id must stay unique per
//     recipient and per retry, and one message per subscriber cannot be
//     "the first" for everyone (a subscriber may join mid-incident). Mail
//     clients thread messages that share a References root even when the
//     root itself never arrives (Gmail also wants the same subject, which
//     the default templates keep per incident).
//   - List-Id <page-slug.sending domain>, List-Unsubscribe <https URL> and,
//     for an https URL, List-Unsubscribe-Post: List-Unsubscribe=One-Click
//     (RFC 2369, RFC 8058): the one-click unsubscribe Gmail and Yahoo
//     require of bulk senders. There is no mailto: variant: nothing reads
//     that mailbox.
//   - Auto-Submitted: auto-generated (RFC 3834) and
//     X-Auto-Response-Suppress keep vacation responders quiet.
//   - DKIM-Signature, when a key is configured, covers and oversigns the
//     headers above (dkim.go).
//   - Non-ASCII text is written as RFC 2047 encoded-words short enough to
//     fold within 76 characters a line (words.go).
//
// No header can be injected: every value is checked for CR and LF and the
// message is refused, before anything is sent, when one has them.
package email

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/templates"
)

// ErrInvalid is wrapped by every error that says a message cannot be built
// from its delivery (no recipient address, a header value with a line
// break, an unknown event type): a permanent failure, not worth retrying.
var ErrInvalid = errors.New("email: message cannot be built")

// Options configure a Builder.
type Options struct {
	// From is the From of every message (config mail_from), an RFC 5322
	// address such as "Status <status@example.com>". Its domain is the
	// sending domain of Message-ID, List-Id and the thread root.
	From string
	// Templates renders subjects and bodies; required.
	Templates *templates.Set
	// DKIM, when set, signs every message.
	DKIM *DKIM
	// Now gives the Date of a message; nil means time.Now.
	Now func() time.Time
}

// Builder turns deliveries into complete RFC 5322 messages. It is safe for
// concurrent use.
type Builder struct {
	from   *mail.Address
	domain string
	tmpl   *templates.Set
	dkim   *DKIM
	now    func() time.Time
	// rendered renders each event once for all its recipients.
	rendered *renderCache
	// size is the length of the last message built: the next one's buffer
	// starts that large, instead of doubling its way up from nothing and
	// leaving every smaller copy to the collector (measured: most of the
	// bytes a fan-out allocated per message).
	size     atomic.Int64
	lastList atomic.Pointer[listIDOf]
}

// NewBuilder checks o: From must be one address with a domain, Templates
// must be set, and DKIM, when set, complete.
func NewBuilder(o Options) (*Builder, error) {
	from, err := mail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("email: from %q: %w", o.From, err)
	}
	at := strings.LastIndexByte(from.Address, '@')
	if at < 0 || at == len(from.Address)-1 {
		return nil, fmt.Errorf("email: from %q has no domain", o.From)
	}
	if o.Templates == nil {
		return nil, errors.New("email: no templates")
	}
	if o.DKIM != nil {
		if err := o.DKIM.check(); err != nil {
			return nil, err
		}
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &Builder{from: from, domain: strings.ToLower(from.Address[at+1:]), tmpl: o.Templates, dkim: o.DKIM, now: now,
		rendered: &renderCache{}}, nil
}

// Envelope is one built message: the SMTP envelope and the message itself.
type Envelope struct {
	From      string // MAIL FROM: the bare From address
	To        string // RCPT TO: the subscriber's address
	MessageID string // without angle brackets
	Data      []byte // the message, CRLF line endings, DKIM-signed when configured
}

// MessageID returns the Message-ID (without angle brackets) of delivery id
// of event eventID: the same on every retry.
func (b *Builder) MessageID(id int64, eventID string) string {
	return fmt.Sprintf("delivery-%d.%s@%s", id, atomSafe(eventID), b.domain)
}

// ThreadID returns the id (without angle brackets) every message about
// incident incidentID refers to in In-Reply-To and References.
func (b *Builder) ThreadID(incidentID string) string {
	return fmt.Sprintf("incident-%s@%s", atomSafe(incidentID), b.domain)
}

// Build renders m's event for its subscriber and returns the message. The
// error wraps ErrInvalid when the delivery can never make a message.
func (b *Builder) Build(m *notify.Message) (*Envelope, error) {
	if m.Event == nil || m.Subscriber == nil {
		return nil, fmt.Errorf("%w: delivery %d has no event or subscriber", ErrInvalid, m.DeliveryID)
	}
	to, err := mail.ParseAddress(m.Subscriber.Address)
	if err != nil || to.Name != "" || strings.ContainsAny(to.Address, "\r\n<>") {
		return nil, fmt.Errorf("%w: recipient %q is not a bare email address", ErrInvalid, m.Subscriber.Address)
	}
	rd, err := b.rendered.render(b.tmpl, m.Event, m.ManageURL, m.UnsubscribeURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	env := &Envelope{From: b.from.Address, To: to.Address, MessageID: b.MessageID(m.DeliveryID, m.Event.ID)}
	h, err := b.header(m, env, rd.subject)
	if err != nil {
		return nil, err
	}
	var raw bytes.Buffer
	raw.Grow(int(b.size.Load()) + 1024)
	if f := rd.frame(h); f != nil {
		err = f.write(&raw, h, rd.manage, rd.unsub)
	} else {
		text, html := rd.bodies()
		err = writeBody(&raw, h, text, html)
	}
	if err != nil {
		return nil, fmt.Errorf("email: write message: %w", err)
	}
	b.size.Store(int64(raw.Len()))
	if env.Data, err = b.sign(raw.Bytes()); err != nil {
		return nil, err
	}
	return env, nil
}

// header sets every header field. go-message puts each new field on top,
// so they are set bottom-up to read in the usual order.
func (b *Builder) header(m *notify.Message, env *Envelope, subject string) (gomail.Header, error) {
	var h gomail.Header
	set := func(k, v string) { h.Set(k, v) }
	set("X-Auto-Response-Suppress", "OOF, AutoReply")
	set("Auto-Submitted", "auto-generated")
	set("X-Herald-Event", string(m.Event.Type))
	if u := m.UnsubscribeURL; u != "" {
		if err := checkLinkURL(u); err != nil {
			return h, err
		}
		if strings.HasPrefix(u, "https://") {
			set("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
		}
		set("List-Unsubscribe", "<"+u+">")
	}
	set("List-Id", b.listID(m.Event.Payload.Page.Name))
	if id := incidentID(m.Event); id != "" {
		h.SetMsgIDList("References", []string{b.ThreadID(id)})
		h.SetMsgIDList("In-Reply-To", []string{b.ThreadID(id)})
	}
	h.SetMessageID(env.MessageID)
	h.SetDate(b.now())
	h.Set("Subject", headerText("Subject", subject))
	h.SetAddressList("To", []*mail.Address{{Address: env.To}})
	if b.from.Name == "" {
		h.SetAddressList("From", []*mail.Address{b.from})
	} else {
		// The display name folds like the subject (mail.Address.String
		// would write it as one long line when it is not ASCII).
		h.Set("From", phrase("From", b.from.Name)+" "+(&mail.Address{Address: b.from.Address}).String())
	}
	fields := h.Fields()
	for fields.Next() {
		if strings.ContainsAny(fields.Value(), "\r\n\x00") {
			return h, fmt.Errorf("%w: header %s has a line break or NUL", ErrInvalid, fields.Key())
		}
	}
	return h, nil
}

func incidentID(ev *gateway.Event) string {
	if ev.Payload.Incident != nil && ev.Payload.Incident.ID != "" {
		return ev.Payload.Incident.ID
	}
	return ev.IncidentID
}

// writeBody writes the header and a multipart/alternative body: text
// first, HTML last (the part a capable client prefers), both UTF-8 and
// quoted-printable.
func writeBody(w io.Writer, h gomail.Header, text, html string) error {
	mw, err := gomail.CreateInlineWriter(w, h)
	if err != nil {
		return err
	}
	for _, part := range []struct{ typ, body string }{{"text/plain", text}, {"text/html", html}} {
		var ph gomail.InlineHeader
		ph.SetContentType(part.typ, map[string]string{"charset": "utf-8"})
		pw, err := mw.CreatePart(ph)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(pw, part.body); err != nil {
			return err
		}
		if err := pw.Close(); err != nil {
			return err
		}
	}
	return mw.Close()
}

// checkLinkURL accepts an absolute http(s) URL that can stand between
// angle brackets in a header.
func checkLinkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		strings.ContainsAny(s, "\r\n\x00 <>\t") {
		return fmt.Errorf("%w: unsubscribe URL %q is not an absolute http(s) URL", ErrInvalid, s)
	}
	return nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// listIDOf is the List-Id of the page last named: the same for every
// message of a fan-out, so it is made once, not per message.
type listIDOf struct{ page, id string }

func (b *Builder) listID(page string) string {
	if l := b.lastList.Load(); l != nil && l.page == page {
		return l.id
	}
	id := listID(page, b.domain)
	b.lastList.Store(&listIDOf{page, id})
	return id
}

// listID returns List-Id's value: the page's name as the phrase and
// <slug.domain> as the id, e.g. "Eptura Workplace" <eptura-workplace.example.com>.
func listID(page, domain string) string {
	slug := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(page), "-"), "-")
	if slug == "" {
		slug = "status"
	}
	if page == "" {
		return "<" + slug + "." + domain + ">"
	}
	return phrase("List-Id", page) + " <" + slug + "." + domain + ">"
}

var nonAtom = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// atomSafe keeps an id usable inside a Message-ID's left part: Herald's
// ids are already safe; anything else has its other characters replaced.
func atomSafe(s string) string {
	if s == "" {
		return "none"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return nonAtom.ReplaceAllString(s, "_")
		}
	}
	return s // the common case, without the regexp's cost per message
}
