package email_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/templates"
)

// TestMailFollowsRFC5322And2045 builds the mail of every event type, from
// the sample events and from events with long, non-ASCII and markup-laden
// texts, and reads each back with the standard library's strict readers
// (net/mail, mime, mime/multipart, mime/quotedprintable) rather than the
// library that wrote it, checking the structure the RFCs require:
//
//   - RFC 5322 2.1, 2.1.1, 2.2: lines end in CRLF, no bare CR or LF, no
//     line longer than 998 octets; header fields are printable US-ASCII
//     names, a colon, and US-ASCII bodies (non-ASCII goes in RFC 2047
//     encoded words); folded lines start with white space.
//   - RFC 5322 3.6: exactly one Date and one From, Date and From parse,
//     at most one Subject, To, Message-ID, In-Reply-To and References.
//   - RFC 2045 4, 5, 6: MIME-Version 1.0; a Content-Type that parses; a
//     known Content-Transfer-Encoding; quoted-printable that decodes, with
//     encoded lines of at most 76 characters; 7bit parts in ASCII.
//   - RFC 2046 5.1.1: a multipart boundary of 1 to 70 allowed characters,
//     not ending in a space, found between the parts and at the end.
//
// The golden files in templates/testdata guard the words against
// regressions; this test guards the envelope they travel in.
func TestMailFollowsRFC5322And2045(t *testing.T) {
	b := newBuilder(t, nil)
	long := strings.Repeat("Zürich Büro: logins fail for <b>some</b> users & we're on it. ", 120)
	for _, et := range templates.EventTypes() {
		for _, variant := range []string{"sample", "long"} {
			t.Run(string(et)+"/"+variant, func(t *testing.T) {
				m := message(t, et, 7)
				if variant == "long" {
					p := &m.Event.Payload
					p.Page.Name = "Störungsmeldung Zürich"
					if p.Update != nil {
						u := *p.Update
						u.Body = long
						p.Update = &u
					}
					if p.Incident != nil {
						in := *p.Incident
						in.Name = "Anmeldung schlägt fehl – " + strings.Repeat("sehr lange Betreffzeile ", 8)
						p.Incident = &in
					}
					if p.Broadcast != nil {
						p.Broadcast = &gateway.BroadcastMessage{Subject: "Wartung heute Nacht – Datenbank", Body: long}
					}
				}
				env, err := b.Build(m)
				if err != nil {
					t.Fatal(err)
				}
				for _, problem := range checkRFCMail(env.Data) {
					t.Error(problem)
				}
			})
		}
	}
}

// TestRFCMailCheckerRejects keeps the checker honest: each message breaks
// one rule and must be refused.
func TestRFCMailCheckerRejects(t *testing.T) {
	const good = "Date: Thu, 16 Sep 2021 14:52:03 +0000\r\nFrom: a@example.com\r\nTo: b@example.com\r\n" +
		"Message-ID: <1@example.com>\r\nSubject: Hi\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHello=\r\n world\r\n" +
		"--b1--\r\n"
	if p := checkRFCMail([]byte(good)); len(p) != 0 {
		t.Fatalf("the checker refused a valid message: %v", p)
	}
	for name, msg := range map[string]string{
		"bare LF":          strings.Replace(good, "Subject: Hi\r\n", "Subject: Hi\n", 1),
		"long line":        strings.Replace(good, "Subject: Hi", "Subject: "+strings.Repeat("x", 1000), 1),
		"no Date":          strings.Replace(good, "Date: Thu, 16 Sep 2021 14:52:03 +0000\r\n", "", 1),
		"two From":         strings.Replace(good, "To:", "From: c@example.com\r\nTo:", 1),
		"8-bit header":     strings.Replace(good, "Subject: Hi", "Subject: Grüße", 1),
		"no MIME-Version":  strings.Replace(good, "MIME-Version: 1.0\r\n", "", 1),
		"unknown encoding": strings.Replace(good, "quoted-printable", "uuencode", 1),
		"bad boundary":     strings.ReplaceAll(good, "b1", "b1 "),
		"no closing":       strings.Replace(good, "--b1--\r\n", "", 1),
		"long QP line":     strings.Replace(good, "Hello=\r\n world", strings.Repeat("y", 80), 1),
		"bad QP":           strings.Replace(good, "Hello=\r\n", "Hello=ZZ\r\n", 1),
	} {
		if len(checkRFCMail([]byte(msg))) == 0 {
			t.Errorf("%s: the checker accepted it", name)
		}
	}
}

// checkRFCMail returns every way data departs from RFC 5322, 2045 and
// 2046 as listed on TestMailFollowsRFC5322And2045.
func checkRFCMail(data []byte) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	checkLines("message", data, 998, bad)
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return append(problems, "net/mail cannot read it: "+err.Error())
	}
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	checkHeaderSection(string(head), bad)
	h := msg.Header
	for _, once := range []string{"Date", "From"} {
		if n := len(h[once]); n != 1 {
			bad("%d %s fields, want exactly 1 (RFC 5322 3.6)", n, once)
		}
	}
	for _, most := range []string{"Subject", "To", "Message-Id", "In-Reply-To", "References", "Mime-Version", "Content-Type"} {
		if n := len(h[most]); n > 1 {
			bad("%d %s fields, want at most 1 (RFC 5322 3.6)", n, most)
		}
	}
	if _, err := h.Date(); err != nil && len(h["Date"]) > 0 {
		bad("Date: %v", err)
	}
	if _, err := h.AddressList("From"); err != nil && len(h["From"]) > 0 {
		bad("From: %v", err)
	}
	if _, err := h.AddressList("To"); err != nil && len(h["To"]) > 0 {
		bad("To: %v", err)
	}
	if id := h.Get("Message-Id"); id != "" && !msgID.MatchString(id) {
		bad("Message-ID %q is not <left@right>", id)
	}
	if _, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); err != nil {
		bad("Subject does not decode (RFC 2047): %v", err)
	}
	if v := h.Get("Mime-Version"); strings.TrimSpace(v) != "1.0" {
		bad("MIME-Version %q, want 1.0 (RFC 2045 4)", v)
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return append(problems, "read body: "+err.Error())
	}
	checkEntity("message", h.Get("Content-Type"), h.Get("Content-Transfer-Encoding"), body, bad)
	return problems
}

// msgID is RFC 5322 3.6.4's msg-id in its common dot-atom form.
var msgID = regexp.MustCompile(`^<[!#$%&'*+/=?^_` + "`" + `{|}~.0-9A-Za-z-]+@[!#$%&'*+/=?^_` + "`" + `{|}~.0-9A-Za-z-]+>$`)

// checkLines checks that data is CRLF lines of at most max octets.
func checkLines(where string, data []byte, max int, bad func(string, ...any)) {
	for i, line := range bytes.Split(data, []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			bad("%s line %d has a bare CR or LF (RFC 5322 2.1)", where, i+1)
		}
		if len(line) > max {
			bad("%s line %d has %d octets, more than %d", where, i+1, len(line), max)
		}
	}
}

// checkHeaderSection checks each header line: a field name of printable
// ASCII without colon, then a colon; or a continuation starting with
// white space; and nothing but ASCII.
func checkHeaderSection(head string, bad func(string, ...any)) {
	for i, line := range strings.Split(head, "\r\n") {
		for _, r := range line {
			if r > 126 || (r < 32 && r != '\t') {
				bad("header line %d holds %q, not US-ASCII text (RFC 5322 2.2; non-ASCII needs RFC 2047)", i+1, r)
				break
			}
		}
		if line != "" && (line[0] == ' ' || line[0] == '\t') {
			if i == 0 {
				bad("the header starts with a continuation line")
			}
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			bad("header line %d %q is neither a field nor a folded continuation (RFC 5322 2.2)", i+1, line)
		}
	}
}

// qpEscape is a quoted-printable escape or soft line break.
var qpEscape = regexp.MustCompile(`=(?:[0-9A-F]{2}|\r\n|$)`)

// boundary is RFC 2046's boundary: bchars, not ending in a space.
var boundary = regexp.MustCompile(`^[0-9A-Za-z'()+_,./:=? -]{0,69}[0-9A-Za-z'()+_,./:=?-]$`)

// checkEntity checks one MIME entity: its type, its transfer encoding,
// and for a multipart its boundary and parts, recursively.
func checkEntity(where, contentType, cte string, body []byte, bad func(string, ...any)) {
	typ, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		bad("%s: Content-Type %q does not parse (RFC 2045 5.1): %v", where, contentType, err)
		return
	}
	if strings.HasPrefix(typ, "multipart/") {
		checkMultipart(where, params["boundary"], body, bad)
		return
	}
	if strings.HasPrefix(typ, "text/") && params["charset"] == "" && !ascii(body) {
		bad("%s: non-ASCII %s without a charset", where, typ)
	}
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit":
		if !ascii(body) {
			bad("%s: 7bit content holds 8-bit octets (RFC 2045 2.7)", where)
		}
	case "8bit", "binary":
	case "quoted-printable":
		checkLines(where+" (quoted-printable)", body, 76, bad) // RFC 2045 6.7 (5)
		if _, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body))); err != nil {
			bad("%s: quoted-printable does not decode: %v", where, err)
		}
		// The reader lets some bad escapes through: an = must start a
		// hex pair or a soft line break (RFC 2045 6.7 (1), (5)).
		if rest := qpEscape.ReplaceAll(body, nil); bytes.IndexByte(rest, '=') >= 0 {
			bad("%s: quoted-printable has an = that is neither =XX nor a soft line break", where)
		}
	case "base64":
		checkLines(where+" (base64)", bytes.TrimSuffix(body, []byte("\r\n")), 76, bad) // RFC 2045 6.8
		if _, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(body), "\r\n", "")); err != nil {
			bad("%s: base64 does not decode: %v", where, err)
		}
	default:
		bad("%s: Content-Transfer-Encoding %q is not one of RFC 2045 6.1", where, cte)
	}
}

func checkMultipart(where, b string, body []byte, bad func(string, ...any)) {
	if !boundary.MatchString(b) {
		bad("%s: boundary %q is not 1 to 70 boundary characters (RFC 2046 5.1.1)", where, b)
		return
	}
	if !bytes.Contains(body, []byte("\r\n--"+b+"--")) && !bytes.HasPrefix(body, []byte("--"+b+"--")) {
		bad("%s: no closing delimiter --%s-- (RFC 2046 5.1.1)", where, b)
	}
	r := multipart.NewReader(bytes.NewReader(body), b)
	n := 0
	for {
		p, err := r.NextRawPart() // raw: the transfer encoding is checked, not undone
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			bad("%s: multipart does not parse: %v", where, err)
			return
		}
		n++
		content, err := io.ReadAll(bufio.NewReader(p))
		if err != nil {
			bad("%s part %d: %v", where, n, err)
			return
		}
		if bytes.Contains(content, []byte("--"+b)) {
			bad("%s part %d holds the boundary", where, n)
		}
		checkEntity(fmt.Sprintf("%s part %d", where, n), p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), content, bad)
	}
	if n == 0 {
		bad("%s: a multipart with no parts", where)
	}
}

func ascii(b []byte) bool {
	for _, c := range b {
		if c > 127 {
			return false
		}
	}
	return true
}
