package email_test

import (
	"bytes"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify/email"
)

var encodedWord = regexp.MustCompile(`=\?[^?\s]+\?[QqBb]\?[^?\s]*\?=`)

// TestLongHeadersFoldPerRFC2047 builds messages whose subject, From
// display name and page name (in List-Id) are long and not ASCII, and
// reads them back as an independent reader does (net/mail and
// mime.WordDecoder): every encoded-word is at most 75 characters, every
// header line that holds one at most 76 (RFC 2047 section 2), every line
// at most 78 (RFC 5322 section 2.1.1), and the decoded text is the text.
func TestLongHeadersFoldPerRFC2047(t *testing.T) {
	for _, tc := range []struct{ name, incident, page, from string }{
		{"german", "Störung: Anmeldung schlägt fehl, Räume und Schreibtische können nicht gebucht werden – wir prüfen die Ursache",
			"Zürich Büro Statusseite", "Störungsmeldungen der Gebäudeverwaltung Zürich <status@example.de>"},
		{"japanese", "ログインできない障害が発生しています。会議室と座席の予約ができません。原因を調査中です。",
			"東京オフィスの稼働状況", "障害情報のお知らせ担当チーム <status@example.jp>"},
		{"emoji and encoded-word lookalike", "🔥 Outage =?utf-8?q?=0D=0A?= in Zürich: the reservation service answers 503 for everyone 🔥",
			"Eptura Workplace", "Eptura Status <status@example.com>"},
		{"ascii with encoded-word lookalike", "Reservations fail with =?utf-8?b?SGVsbG8=?= in the logs of every node of the cluster in Frankfurt",
			"Eptura Workplace", "Eptura Status <status@example.com>"},
		{"long ascii", "Reservations fail for every customer of the Space, Move and Reservation modules while DNS does not resolve",
			"Eptura Workplace", "Eptura Status <status@example.com>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := email.NewBuilder(email.Options{From: tc.from, Templates: tmpl(t), Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			m := message(t, gateway.EventIncidentCreated, 5)
			m.Event.Payload.Page.Name = tc.page
			in := *m.Event.Payload.Incident
			in.Name = tc.incident
			m.Event.Payload.Incident = &in
			env, err := b.Build(m)
			if err != nil {
				t.Fatal(err)
			}
			head, _, _ := bytes.Cut(env.Data, []byte("\r\n\r\n"))
			for _, line := range strings.Split(string(head), "\r\n") {
				switch words := encodedWord.FindAllString(line, -1); {
				case len(words) > 0 && len(line) > 76:
					t.Errorf("a line with encoded-words is %d characters, want at most 76: %q", len(line), line)
				case len(line) > 78:
					t.Errorf("a line is %d characters, want at most 78: %q", len(line), line)
				default:
					for _, w := range words {
						if len(w) > 75 {
							t.Errorf("an encoded-word is %d characters, want at most 75: %q", len(w), w)
						}
					}
				}
			}

			msg, err := mail.ReadMessage(bytes.NewReader(env.Data))
			if err != nil {
				t.Fatal(err)
			}
			dec := new(mime.WordDecoder)
			subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
			if want := "[" + tc.page + "] " + tc.incident; err != nil || subject != want {
				t.Errorf("Subject decodes to %q (%v), want %q", subject, err, want)
			}
			from, err := msg.Header.AddressList("From")
			wantFrom, _ := mail.ParseAddress(tc.from)
			if err != nil || len(from) != 1 || *from[0] != *wantFrom {
				t.Errorf("From = %v (%v), want %v", from, err, wantFrom)
			}
			listID, err := dec.DecodeHeader(msg.Header.Get("List-Id"))
			if err != nil || !strings.HasPrefix(listID, tc.page+" <") && !strings.HasPrefix(listID, `"`+tc.page+`" <`) {
				t.Errorf("List-Id decodes to %q (%v), want the page name %q first", listID, err, tc.page)
			}
			// And the message still reads the same with go-message.
			p := parse(t, env.Data)
			if s, _ := p.h.Subject(); s != subject {
				t.Errorf("go-message reads Subject %q, net/mail %q", s, subject)
			}
		})
	}
}
