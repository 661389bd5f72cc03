package email_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/notify/email"
	"github.com/heraldstatus/herald/templates"
)

var now = time.Date(2021, 9, 16, 14, 52, 3, 0, time.UTC)

var set *templates.Set

func tmpl(t testing.TB) *templates.Set {
	t.Helper()
	if set == nil {
		s, err := templates.Load("")
		if err != nil {
			t.Fatal(err)
		}
		set = s
	}
	return set
}

func newBuilder(t testing.TB, dkim *email.DKIM) *email.Builder {
	t.Helper()
	b, err := email.NewBuilder(email.Options{
		From: "Eptura Status <status@status.example.com>", Templates: tmpl(t), DKIM: dkim,
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// message returns delivery id of the sample event et to ann@example.org.
func message(t testing.TB, et gateway.EventType, id int64) *notify.Message {
	t.Helper()
	ev, err := templates.SampleEvent(et)
	if err != nil {
		t.Fatal(err)
	}
	return &notify.Message{
		DeliveryID: id, Event: ev,
		Subscriber:     &gateway.Subscriber{ID: "s1", Kind: gateway.SubscriberEmail, Address: "ann@example.org", Status: gateway.SubscriberActive},
		ManageURL:      "https://status.example.com/subscriptions/tok-ann",
		UnsubscribeURL: "https://status.example.com/unsubscribe/tok-ann",
	}
}

// parsed is a message read back with go-message.
type parsed struct {
	h          gomail.Header
	text, html string
	types      []string
}

func parse(t testing.TB, data []byte) parsed {
	t.Helper()
	if bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("message has a bare LF")
	}
	r, err := gomail.CreateReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	p := parsed{h: r.Header}
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		ih, ok := part.Header.(*gomail.InlineHeader)
		if !ok {
			t.Fatalf("part %T is not inline", part.Header)
		}
		typ, params, _ := ih.ContentType()
		if params["charset"] != "utf-8" {
			t.Errorf("%s charset = %q, want utf-8", typ, params["charset"])
		}
		b, err := io.ReadAll(part.Body)
		if err != nil {
			t.Fatal(err)
		}
		p.types = append(p.types, typ)
		body := strings.ReplaceAll(string(b), "\r\n", "\n") // hard line breaks travel as CRLF
		switch typ {
		case "text/plain":
			p.text = body
		case "text/html":
			p.html = body
		}
	}
	return p
}

// checkHeaders checks every header of a built message of m.
func checkHeaders(t *testing.T, p parsed, m *notify.Message) {
	t.Helper()
	get := func(k string) string { return p.h.Get(k) }
	from, err := p.h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != "status@status.example.com" || from[0].Name != "Eptura Status" {
		t.Errorf("From = %q (%v)", get("From"), err)
	}
	to, err := p.h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != m.Subscriber.Address {
		t.Errorf("To = %q (%v)", get("To"), err)
	}
	data := templates.NewEmailData(m.Event, m.ManageURL, m.UnsubscribeURL)
	wantSubject, wantText, wantHTML, err := tmpl(t).RenderEmail(string(m.Event.Type), data)
	if err != nil {
		t.Fatal(err)
	}
	if subject, err := p.h.Subject(); err != nil || subject != wantSubject {
		t.Errorf("Subject = %q (%v), want %q", subject, err, wantSubject)
	}
	if date, err := p.h.Date(); err != nil || !date.Equal(now) {
		t.Errorf("Date = %q (%v), want %v", get("Date"), err, now)
	}
	if id, err := p.h.MessageID(); err != nil || id != "delivery-"+itoa(m.DeliveryID)+"."+m.Event.ID+"@status.example.com" {
		t.Errorf("Message-ID = %q (%v)", get("Message-Id"), err)
	}
	for k, want := range map[string]string{
		"List-Id":                  `"Eptura Workplace" <eptura-workplace.status.example.com>`,
		"List-Unsubscribe":         "<" + m.UnsubscribeURL + ">",
		"List-Unsubscribe-Post":    "List-Unsubscribe=One-Click",
		"Auto-Submitted":           "auto-generated",
		"X-Auto-Response-Suppress": "OOF, AutoReply",
		"Mime-Version":             "1.0",
	} {
		if got := get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if typ, _, _ := p.h.ContentType(); typ != "multipart/alternative" {
		t.Errorf("Content-Type = %q, want multipart/alternative", typ)
	}
	if strings.Join(p.types, ",") != "text/plain,text/html" {
		t.Errorf("parts = %v, want text/plain then text/html", p.types)
	}
	if p.text != wantText {
		t.Errorf("text part differs from the template:\n%s", p.text)
	}
	if p.html != wantHTML {
		t.Errorf("html part differs from the template:\n%s", p.html)
	}
	for _, k := range []string{"In-Reply-To", "References"} {
		ids, err := p.h.MsgIDList(k)
		if want := "incident-" + m.Event.IncidentID + "@status.example.com"; err != nil || len(ids) != 1 || ids[0] != want {
			t.Errorf("%s = %q (%v), want <%s>", k, get(k), err, want)
		}
	}
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func TestBuild(t *testing.T) {
	b := newBuilder(t, nil)
	m := message(t, gateway.EventIncidentUpdated, 42)
	env, err := b.Build(m)
	if err != nil {
		t.Fatal(err)
	}
	if env.From != "status@status.example.com" || env.To != "ann@example.org" {
		t.Errorf("envelope %s → %s", env.From, env.To)
	}
	checkHeaders(t, parse(t, env.Data), m)
}

// TestThreading: every message of one incident names the same thread root,
// and each delivery keeps its own Message-ID across retries.
func TestThreading(t *testing.T) {
	b := newBuilder(t, nil)
	ids := map[string]bool{}
	var root string
	for i, et := range []gateway.EventType{gateway.EventIncidentCreated, gateway.EventIncidentUpdated, gateway.EventIncidentResolved, gateway.EventIncidentPostmortem} {
		env, err := b.Build(message(t, et, int64(100+i)))
		if err != nil {
			t.Fatal(err)
		}
		p := parse(t, env.Data)
		id, _ := p.h.MessageID()
		ids[id] = true
		refs, _ := p.h.MsgIDList("References")
		if len(refs) != 1 || root != "" && refs[0] != root {
			t.Errorf("%s: References = %v, want [%s]", et, refs, root)
		}
		root = refs[0]
		again, err := b.Build(message(t, et, int64(100+i)))
		if err != nil {
			t.Fatal(err)
		}
		if again.MessageID != env.MessageID {
			t.Errorf("%s: retry Message-ID %s, first %s", et, again.MessageID, env.MessageID)
		}
	}
	if len(ids) != 4 {
		t.Errorf("Message-IDs %v, want 4 different", ids)
	}
	env, err := b.Build(message(t, gateway.EventBroadcast, 200))
	if err != nil {
		t.Fatal(err)
	}
	if p := parse(t, env.Data); p.h.Has("References") || p.h.Has("In-Reply-To") {
		t.Error("a broadcast threads with an incident")
	}
}

// TestEncodedHeaders: non-ASCII names are RFC 2047 encoded and decode back.
func TestEncodedHeaders(t *testing.T) {
	b, err := email.NewBuilder(email.Options{From: "Störungsmeldung <status@example.de>", Templates: tmpl(t)})
	if err != nil {
		t.Fatal(err)
	}
	m := message(t, gateway.EventIncidentCreated, 7)
	m.Event.Payload.Page.Name = "Zürich Büro"
	in := *m.Event.Payload.Incident
	in.Name = "Störung: Anmeldung schlägt fehl"
	m.Event.Payload.Incident = &in
	env, err := b.Build(m)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := bytes.Cut(env.Data, []byte("\r\n\r\n"))
	for _, c := range head {
		if c >= 0x80 {
			t.Fatalf("header has a raw non-ASCII byte:\n%s", head)
		}
	}
	p := parse(t, env.Data)
	if s, _ := p.h.Subject(); s != "[Zürich Büro] Störung: Anmeldung schlägt fehl" {
		t.Errorf("Subject = %q", s)
	}
	if from, _ := p.h.AddressList("From"); len(from) != 1 || from[0].Name != "Störungsmeldung" {
		t.Errorf("From = %v", from)
	}
	if !strings.Contains(p.h.Get("List-Id"), "<z-rich-b-ro.example.de>") {
		t.Errorf("List-Id = %q", p.h.Get("List-Id"))
	}
}

// TestHeaderInjection: no value a subscriber or an author controls can add
// a header.
func TestHeaderInjection(t *testing.T) {
	b := newBuilder(t, nil)
	for name, mutate := range map[string]func(*notify.Message){
		"address":     func(m *notify.Message) { m.Subscriber.Address = "ann@example.org\r\nBcc: eve@example.net" },
		"address LF":  func(m *notify.Message) { m.Subscriber.Address = "ann@example.org\nBcc: eve@example.net" },
		"named":       func(m *notify.Message) { m.Subscriber.Address = "Ann <ann@example.org>" },
		"unsubscribe": func(m *notify.Message) { m.UnsubscribeURL = "https://x.example/u\r\nBcc: eve@example.net" },
		"unsub angle": func(m *notify.Message) { m.UnsubscribeURL = "https://x.example/u>, <mailto:eve@example.net" },
		"unsub js":    func(m *notify.Message) { m.UnsubscribeURL = "javascript:alert(1)" },
		"event type":  func(m *notify.Message) { m.Event.Type = "incident.created\r\nBcc: eve@example.net" },
	} {
		m := message(t, gateway.EventIncidentCreated, 1)
		mutate(m)
		if _, err := b.Build(m); !errors.Is(err, email.ErrInvalid) {
			t.Errorf("%s: Build = %v, want ErrInvalid", name, err)
		}
	}
	// Text that becomes a subject is folded to one line, never a new header.
	m := message(t, gateway.EventIncidentCreated, 1)
	in := *m.Event.Payload.Incident
	in.Name = "Outage\r\nBcc: eve@example.net\r\n\r\n<b>body</b>"
	m.Event.Payload.Incident = &in
	env, err := b.Build(m)
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, env.Data)
	if p.h.Has("Bcc") {
		t.Error("a Bcc header got in")
	}
	if s, _ := p.h.Subject(); s != "[Eptura Workplace] Outage Bcc: eve@example.net <b>body</b>" {
		t.Errorf("Subject = %q", s)
	}
}

func TestPlainHTTPUnsubscribe(t *testing.T) {
	m := message(t, gateway.EventTest, 3)
	m.UnsubscribeURL = "http://localhost:8080/unsubscribe/tok"
	env, err := newBuilder(t, nil).Build(m)
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, env.Data)
	if p.h.Get("List-Unsubscribe") != "<http://localhost:8080/unsubscribe/tok>" || p.h.Has("List-Unsubscribe-Post") {
		t.Errorf("List-Unsubscribe %q, -Post %q: one-click needs https", p.h.Get("List-Unsubscribe"), p.h.Get("List-Unsubscribe-Post"))
	}
}

func TestNewBuilderErrors(t *testing.T) {
	for _, o := range []email.Options{
		{From: "not an address", Templates: tmpl(t)},
		{From: "status@", Templates: tmpl(t)},
		{From: "status@example.com"},
		{From: "status@example.com", Templates: tmpl(t), DKIM: &email.DKIM{Domain: "example.com"}},
	} {
		if _, err := email.NewBuilder(o); err == nil {
			t.Errorf("NewBuilder(%+v) succeeded", o)
		}
	}
}
