package email

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"strings"

	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// A fan-out's messages differ in a few header fields and in the lines of
// their bodies that hold the recipient's two links. A frame is an event's
// MIME body (multipart/alternative, both parts quoted-printable) as
// go-message writes it, kept once per event: its boundary and part
// headers, and each body line already encoded, except the lines with a
// link, which are encoded per message. Quoted-printable encodes each line
// on its own (a soft line break never crosses a hard one), so the lines
// put together are the encoding of the whole text.
//
// A frame is used for an event only after it built its first recipient's
// message byte for byte as go-message builds it (the boundary aside, which
// go-message picks at random each time); otherwise the event's messages
// are built whole (see renderCache).
type frame struct {
	boundary string
	// open, mid and end surround the text part and the HTML part: the
	// boundaries and the part headers.
	open, mid, end string
	text, html     []frameLine
}

// frameLine is one line of a part, its line break included: encoded, or,
// when it holds a link placeholder, raw (to encode per message).
type frameLine struct {
	encoded string
	raw     string
}

// newFrame returns the frame of a body rendered with the placeholder
// links, or nil when go-message's output does not have the expected
// shape.
func newFrame(text, html string) *frame {
	var out bytes.Buffer
	if err := writeBody(&out, gomail.Header{}, text, html); err != nil {
		return nil
	}
	boundary, body := boundaryOf(out.Bytes())
	if boundary == nil {
		return nil
	}
	f := &frame{boundary: string(boundary), text: frameLines(text), html: frameLines(html)}
	// With the placeholders as links, encode gives the parts as written.
	var qt, qh bytes.Buffer
	f.encode(&qt, f.text, manageHolder, unsubHolder)
	f.encode(&qh, f.html, manageHolder, unsubHolder)
	i := bytes.Index(body, qt.Bytes())
	if i < 0 {
		return nil
	}
	rest := body[i+qt.Len():]
	j := bytes.Index(rest, qh.Bytes())
	if j < 0 {
		return nil
	}
	f.open, f.mid, f.end = string(body[:i]), string(rest[:j]), string(rest[j+qh.Len():])
	return f
}

// frameLines splits s after each line break and encodes the lines that
// hold no placeholder.
func frameLines(s string) []frameLine {
	var lines []frameLine
	for s != "" {
		n := strings.IndexByte(s, '\n') + 1
		if n == 0 {
			n = len(s)
		}
		line := s[:n]
		s = s[n:]
		if strings.Contains(line, manageHolder) || strings.Contains(line, unsubHolder) {
			lines = append(lines, frameLine{raw: line})
		} else {
			var b strings.Builder
			writeQP(&b, line)
			lines = append(lines, frameLine{encoded: b.String()})
		}
	}
	return lines
}

// encode writes the part's encoded text with the links put in.
func (f *frame) encode(w io.Writer, lines []frameLine, manage, unsub string) {
	for _, l := range lines {
		if l.raw == "" {
			_, _ = io.WriteString(w, l.encoded)
		} else {
			writeQP(w, putLinks(l.raw, manage, unsub))
		}
	}
}

// write writes the message: header h with the frame's multipart
// Content-Type, set in the order go-message's inline writer sets it (the
// order the fields come out in), then the body with the links put in.
func (f *frame) write(w *bytes.Buffer, h gomail.Header, manage, unsub string) error {
	h = gomail.Header{Header: h.Header.Copy()}
	h.Set("Content-Type", "multipart/alternative")
	if !h.Has("Mime-Version") {
		h.Set("MIME-Version", "1.0")
	}
	h.SetContentType("multipart/alternative", map[string]string{"boundary": f.boundary})
	h.Del("Content-Transfer-Encoding")
	if err := textproto.WriteHeader(w, h.Header.Header); err != nil {
		return err
	}
	w.WriteString(f.open)
	f.encode(w, f.text, manage, unsub)
	w.WriteString(f.mid)
	f.encode(w, f.html, manage, unsub)
	w.WriteString(f.end)
	return nil
}

// writeQP writes s quoted-printable encoded. Its writers are in-memory
// buffers, which do not fail.
func writeQP(w io.Writer, s string) {
	qp := quotedprintable.NewWriter(w)
	_, _ = io.WriteString(qp, s)
	_ = qp.Close()
}

// boundaryOf returns the multipart boundary of a message go-message wrote
// and its body, which starts at the first boundary line (--boundary CRLF);
// nil when the message has no such body.
func boundaryOf(msg []byte) (boundary, body []byte) {
	_, body, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	first, _, _ := bytes.Cut(body, []byte("\r\n"))
	if !ok || len(first) < 3 || !bytes.HasPrefix(first, []byte("--")) {
		return nil, nil
	}
	return first[2:], body
}
