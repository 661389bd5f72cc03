package web_test

import (
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/notify/email"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/templates"
)

// mailSink is go-smtp's server in process: it keeps every message.
type mailSink struct {
	mu   sync.Mutex
	msgs []string
	got  chan struct{} // one tick per message
}

func (s *mailSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }

type sinkSession struct{ s *mailSink }

func (x *sinkSession) Reset()                               {}
func (x *sinkSession) Logout() error                        { return nil }
func (x *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (x *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, string(b))
	x.s.mu.Unlock()
	x.s.got <- struct{}{}
	return nil
}

// startMail runs the sink and the real delivery path to it: Herald's
// templates, its email builder and SMTP channel, and the dispatcher that
// plans events and sends them. It returns the sink.
func (e *env) startMail(t *testing.T) *mailSink {
	t.Helper()
	sink := &mailSink{got: make(chan struct{}, 100)}
	srv := smtp.NewServer(sink)
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	tmpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	b, err := email.NewBuilder(email.Options{From: "Eptura Workplace Status <status@example.com>", Templates: tmpl})
	if err != nil {
		t.Fatal(err)
	}
	mail, err := email.NewSMTP(b, email.SMTPOptions{URL: "smtp://" + ln.Addr().String() + "?tls=none"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mail.Close() })
	d := &notify.Dispatcher{Store: e.st, Notifiers: map[gateway.Channel]notify.Notifier{gateway.ChannelEmail: mail},
		Links: e.subs.Load().Links, Log: storetest.Logger(t), Poll: 20 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("dispatcher: %v", err)
		}
	})
	return sink
}

// next waits for the next message (a generous bound: the dispatcher
// polls; the test is not about speed).
func (s *mailSink) next(t *testing.T) string {
	t.Helper()
	select {
	case <-s.got:
	case <-time.After(time.Minute):
		t.Fatal("no message reached the SMTP sink")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.msgs[len(s.msgs)-1]
}

var confirmLink = regexp.MustCompile(`https?://[^\s"<>]+/subscribe/confirm/[A-Za-z0-9._-]+`)

// link finds the confirmation link in a message (its text part may be
// quoted-printable: soft line breaks are undone first; tokens hold no "=").
func link(t *testing.T, msg string) string {
	t.Helper()
	flat := strings.NewReplacer("=\r\n", "", "=\n", "").Replace(msg)
	l := confirmLink.FindString(flat)
	if l == "" {
		t.Fatalf("no confirmation link in:\n%s", msg)
	}
	return l
}
