package notify_test

import (
	"bufio"
	"io"
	"log"
	"net"
	"net/textproto"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/heraldstatus/herald/gateway/notify/email"
	"github.com/heraldstatus/herald/templates"
)

// defaultTemplates are the embedded templates, as Herald sends with them.
func defaultTemplates(tb testing.TB) *templates.Set {
	tb.Helper()
	tmpl, err := templates.Load("")
	if err != nil {
		tb.Fatal(err)
	}
	return tmpl
}

// mailBuilder builds messages from the default templates.
func mailBuilder(tb testing.TB) *email.Builder {
	tb.Helper()
	b, err := email.NewBuilder(email.Options{From: "Status <status@example.com>", Templates: defaultTemplates(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// smtpSink is go-smtp's server in process, counting the messages it
// accepts by Message-ID. It can be stopped and started again on the same
// address, as an SMTP server that goes down for a while.
type smtpSink struct {
	tb   testing.TB
	addr string
	// countOnly keeps no Message-IDs, so that a benchmark's heap is
	// Herald's; duplicates then reads 0.
	countOnly bool

	mu    sync.Mutex
	srv   *smtp.Server
	n     int64
	perID map[string]int
}

func startSMTPSink(tb testing.TB, addr string) *smtpSink {
	tb.Helper()
	s := &smtpSink{tb: tb, perID: map[string]int{}}
	s.listen(addr)
	tb.Cleanup(s.stop)
	return s
}

func (s *smtpSink) listen(addr string) {
	s.tb.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		s.tb.Fatal(err)
	}
	srv := smtp.NewServer(s)
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = true
	srv.ErrorLog = log.New(io.Discard, "", 0) // stopping resets connections, as it should
	s.mu.Lock()
	s.addr, s.srv = l.Addr().String(), srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// stop closes the listener and every connection: the server is down.
func (s *smtpSink) stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// restart serves again on the same address.
func (s *smtpSink) restart() { s.listen(s.addr) }

func (s *smtpSink) total() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *smtpSink) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n, s.perID = 0, map[string]int{}
}

// duplicates returns how many messages repeated a Message-ID seen before.
func (s *smtpSink) duplicates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := 0
	for _, c := range s.perID {
		d += c - 1
	}
	return d
}

func (s *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return sinkSession{s}, nil }

type sinkSession struct{ s *smtpSink }

func (sinkSession) AuthPlain(string, string) error       { return nil }
func (sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (sinkSession) Reset()                               {}
func (sinkSession) Logout() error                        { return nil }

func (x sinkSession) Data(r io.Reader) error {
	br := bufio.NewReader(r)
	h, err := textproto.NewReader(br).ReadMIMEHeader()
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.n++
	if !x.s.countOnly {
		x.s.perID[h.Get("Message-Id")]++
	}
	return nil
}
