// Package mailsink is the SMTP server that Herald's mail goes to in tests
// and in herald-load's sink mode: go-smtp's server, in process, accepting
// any sender and recipient and keeping as much of each message as the
// caller asks for. Tests that only count (a heap measured under load, a
// fan-out benchmark) keep nothing per message, so the heap they measure
// is Herald's. Only tests and cmd/herald-load import it.
package mailsink

import (
	"bufio"
	"bytes"
	"io"
	"log"
	"net"
	"net/textproto"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TB is the part of testing.TB the sink uses. The package names it itself
// rather than import testing, so that herald-load, a program, can serve a
// sink without linking the test framework.
type TB interface {
	Helper()
	Cleanup(func())
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// Keep says what a Sink keeps of each message it accepts.
type Keep int

const (
	// KeepAll keeps the envelope, the Message-ID and the message as
	// received.
	KeepAll Keep = iota
	// KeepEnvelope keeps the envelope and the Message-ID, not the
	// message: enough to tell who got what, for fan-outs of thousands.
	KeepEnvelope
	// KeepCount keeps only the count.
	KeepCount
)

// Options configures a Sink; the zero value keeps everything, listens on
// a free loopback port and offers no AUTH.
type Options struct {
	Addr string // listen address for Start; "" is 127.0.0.1:0
	Keep Keep
	// User and Pass, when User is set, make the sink offer AUTH PLAIN
	// and accept only these credentials (535 5.7.8 otherwise).
	User, Pass string
	// OnMessage, when set, is called with each accepted message (Data
	// only under KeepAll) after the sink counted it, from the session
	// that received it: calls from several connections run concurrently.
	OnMessage func(Message)
}

// Message is one accepted message.
type Message struct {
	From      string
	To        []string
	MessageID string
	Data      []byte // headers and body as received; nil unless KeepAll
}

// Sink is an SMTP server that accepts everything. Its methods are safe
// for concurrent use.
type Sink struct {
	opt Options

	mu      sync.Mutex
	addr    string
	srv     *smtp.Server
	n       int
	msgs    []Message
	read    int           // messages Next returned
	changed chan struct{} // closed on the next arrival; nil when nobody waits
}

// New returns a sink that serves nothing until Serve.
func New(o Options) *Sink { return &Sink{opt: o} }

// Start serves a sink on o.Addr (127.0.0.1:0 when empty) until the test
// ends.
func Start(tb TB, o Options) *Sink {
	tb.Helper()
	s := New(o)
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	s.listen(tb, o.Addr)
	tb.Cleanup(s.Close)
	return s
}

func (s *Sink) listen(tb TB, addr string) {
	tb.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	srv := s.server(l)
	go func() { _ = srv.Serve(l) }()
}

// Serve accepts connections on l until Close, as smtp.Server.Serve does.
func (s *Sink) Serve(l net.Listener) error { return s.server(l).Serve(l) }

// server makes the go-smtp server for l and makes it the one Close stops.
func (s *Sink) server(l net.Listener) *smtp.Server {
	srv := smtp.NewServer(s)
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = true
	srv.MaxRecipients = 100 // what RFC 5321 has every server accept
	// Clients that close idle connections, and Close itself, are not news.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	s.mu.Lock()
	s.addr, s.srv = l.Addr().String(), srv
	s.mu.Unlock()
	return srv
}

// Addr is the address the sink listens on.
func (s *Sink) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL is the smtp:// URL Herald's SMTP channel sends to the sink with, in
// plain text.
func (s *Sink) URL() string { return "smtp://" + s.Addr() + "?tls=none" }

// Close closes the listener and every connection: the server is down.
func (s *Sink) Close() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Restart serves again on the address Close gave up, as a server back
// from an outage.
func (s *Sink) Restart(tb TB) {
	tb.Helper()
	s.listen(tb, s.Addr())
}

// Count is how many messages the sink accepted since it started or was
// Reset.
func (s *Sink) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Messages returns the messages kept, in the order they were accepted
// (none under KeepCount).
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Recipients returns the recipients of every message kept, in order.
func (s *Sink) Recipients() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var to []string
	for _, m := range s.msgs {
		to = append(to, m.To...)
	}
	return to
}

// Duplicates is how many kept messages repeat a Message-ID accepted
// before.
func (s *Sink) Duplicates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := make(map[string]bool, len(s.msgs))
	d := 0
	for _, m := range s.msgs {
		if seen[m.MessageID] {
			d++
		}
		seen[m.MessageID] = true
	}
	return d
}

// Reset forgets every message, as if the sink had just started.
func (s *Sink) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n, s.msgs, s.read = 0, nil, 0
}

// hangGuard bounds Wait and Next: Herald's dispatcher polls, and tests
// are not about speed, so this only ends a test that would hang.
const hangGuard = 2 * time.Minute

// Wait waits until the sink has accepted n messages, failing the test if
// they do not come.
func (s *Sink) Wait(tb TB, n int) {
	tb.Helper()
	deadline := time.After(hangGuard)
	for {
		s.mu.Lock()
		got := s.n
		if got >= n {
			s.mu.Unlock()
			return
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			tb.Fatalf("the SMTP sink has %d messages, want %d", got, n)
		}
	}
}

// Next waits for the message after the one Next returned last (the
// first, at first) and returns it. The sink must keep messages.
func (s *Sink) Next(tb TB) Message {
	tb.Helper()
	s.mu.Lock()
	s.read++
	i := s.read
	s.mu.Unlock()
	s.Wait(tb, i)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.msgs) < i {
		tb.Fatalf("the SMTP sink keeps no messages (Keep %d)", s.opt.Keep)
	}
	return s.msgs[i-1]
}

func (s *Sink) accept(m Message) {
	s.mu.Lock()
	s.n++
	if s.opt.Keep != KeepCount {
		s.msgs = append(s.msgs, m)
	}
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	s.mu.Unlock()
	if s.opt.OnMessage != nil {
		s.opt.OnMessage(m)
	}
}

// NewSession makes Sink a go-smtp backend.
func (s *Sink) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }

type session struct {
	s    *Sink
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (x *session) AuthMechanisms() []string {
	if x.s.opt.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.opt.User || pass != x.s.opt.Pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// Data accepts a message once it has been read to its end: one cut off
// (the sender killed mid-DATA) was never accepted, and is not counted.
func (x *session) Data(r io.Reader) error {
	var raw bytes.Buffer
	if x.s.opt.Keep == KeepAll {
		r = io.TeeReader(r, &raw)
	}
	br := bufio.NewReader(r)
	h, err := textproto.NewReader(br).ReadMIMEHeader()
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return err
	}
	m := Message{From: x.from, To: slices.Clone(x.to), MessageID: h.Get("Message-Id")}
	if x.s.opt.Keep == KeepAll {
		m.Data = raw.Bytes()
	}
	x.s.accept(m)
	return nil
}
