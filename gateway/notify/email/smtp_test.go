package email_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/notify/email"
)

// newSMTP returns a sender to s; rawURL's host is replaced by the sink's.
func newSMTP(t *testing.T, s *sink, rawURL string, o email.SMTPOptions) *email.SMTP {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = s.addr
	o.URL = u.String()
	n, err := email.NewSMTP(newBuilder(t, nil), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func notifyOK(t *testing.T, n notify.Notifier, m *notify.Message) notify.Result {
	t.Helper()
	res, retry, err := n.Notify(context.Background(), m)
	if err != nil {
		t.Fatalf("Notify(delivery %d) = %v (retry %v)", m.DeliveryID, err, retry)
	}
	return res
}

// TestSMTPSend: what the sink receives is the whole message, every header
// and both parts, with the envelope of the subscriber.
func TestSMTPSend(t *testing.T) {
	s := startSink(t, sinkOptions{})
	n := newSMTP(t, s, "smtp://x?tls=none", email.SMTPOptions{})
	m := message(t, gateway.EventIncidentCreated, 11)
	if res := notifyOK(t, n, m); res.Code != 250 {
		t.Errorf("Code = %d, want 250", res.Code)
	}
	got := s.messages()
	if len(got) != 1 {
		t.Fatalf("sink got %d messages, want 1", len(got))
	}
	if got[0].From != "status@status.example.com" || len(got[0].To) != 1 || got[0].To[0] != "ann@example.org" {
		t.Errorf("envelope %s → %v", got[0].From, got[0].To)
	}
	checkHeaders(t, parse(t, got[0].Data), m)
	if s.commands("EHLO status.example.com") != 1 {
		t.Errorf("EHLO name: transcript has %d EHLO status.example.com", s.commands("EHLO status.example.com"))
	}
}

// TestSMTPPool: many messages from many workers share few connections, and
// a successful transaction is followed by the next MAIL FROM directly (no
// RSET, so no second EHLO).
func TestSMTPPool(t *testing.T) {
	s := startSink(t, sinkOptions{})
	n := newSMTP(t, s, "smtp://x?tls=none", email.SMTPOptions{MaxConns: 3, MessagesPerConn: 1000})
	const total, workers = 300, 12
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < total; i += workers {
				if _, _, err := n.Notify(context.Background(), message(t, gateway.EventIncidentUpdated, int64(i))); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(s.messages()); got != total {
		t.Errorf("sink got %d messages, want %d", got, total)
	}
	if c := s.accepted.Load(); c < 1 || c > 3 {
		t.Errorf("%d connections for %d messages, want 1 to 3", c, total)
	}
	if r := s.commands("RSET"); r != 0 {
		t.Errorf("%d RSET after successful transactions, want 0", r)
	}
	// At most one EHLO per connection (a reset would add a second). A
	// connection the pool opened last may not have said EHLO yet when the
	// workers finish, so this is a bound, not an equality.
	if e := s.commands("EHLO"); e < 1 || int32(e) > s.accepted.Load() {
		t.Errorf("%d EHLO on %d connections, want at most one each", e, s.accepted.Load())
	}
}

// TestSMTPRecycle: a connection is replaced after MessagesPerConn messages.
func TestSMTPRecycle(t *testing.T) {
	s := startSink(t, sinkOptions{})
	n := newSMTP(t, s, "smtp://x?tls=none", email.SMTPOptions{MaxConns: 1, MessagesPerConn: 10})
	for i := range 35 {
		notifyOK(t, n, message(t, gateway.EventTest, int64(i)))
	}
	if c := s.accepted.Load(); c != 4 {
		t.Errorf("%d connections for 35 messages at 10 each, want 4", c)
	}
	if q := s.commands("QUIT"); q != 3 {
		t.Errorf("%d QUIT, want 3 (the recycled connections)\n%s", q, s.dump())
	}
}

// TestSMTPTemporaryThenOK: 451 is retried, and the retry carries the same
// Message-ID on the same connection.
func TestSMTPTemporaryThenOK(t *testing.T) {
	s := startSink(t, sinkOptions{})
	s.reply("DATA", smtpErr(451, smtp.EnhancedCode{4, 3, 0}, "Try again later"))
	n := newSMTP(t, s, "smtp://x?tls=none", email.SMTPOptions{})
	m := message(t, gateway.EventIncidentResolved, 12)
	res, retry, err := n.Notify(context.Background(), m)
	if err == nil || !retry || res.Code != 451 || res.Gone {
		t.Fatalf("first attempt: %+v retry=%v err=%v, want a 451 to retry", res, retry, err)
	}
	notifyOK(t, n, m)
	got := s.messages()
	if len(got) != 1 {
		t.Fatalf("sink got %d messages, want 1", len(got))
	}
	p := parse(t, got[0].Data)
	if id, _ := p.h.MessageID(); id != "delivery-12."+m.Event.ID+"@status.example.com" {
		t.Errorf("Message-ID %q", id)
	}
	if c := s.accepted.Load(); c != 1 {
		t.Errorf("%d connections, want 1: a 4xx reply to the data keeps the connection", c)
	}
}

// TestSMTPReplies: each refusal is classified by its code and stage.
func TestSMTPReplies(t *testing.T) {
	tests := []struct {
		name       string
		cmd        string
		reply      error
		code       int
		retry      bool
		gone       bool
		reconnects bool // the connection cannot be reused
	}{
		{"450 mailbox busy", "RCPT", smtpErr(450, smtp.EnhancedCode{4, 2, 0}, "Mailbox busy"), 450, true, false, false},
		{"452 storage", "RCPT", smtpErr(452, smtp.EnhancedCode{4, 3, 1}, "Insufficient storage"), 452, true, false, false},
		{"421 closing", "MAIL", smtpErr(421, smtp.EnhancedCode{4, 7, 0}, "Too busy, closing"), 421, true, false, true},
		{"550 no such user", "RCPT", smtpErr(550, smtp.EnhancedCode{5, 1, 1}, "No such user"), 550, false, true, false},
		{"550 without enhanced code", "RCPT", smtpErr(550, smtp.NoEnhancedCode, "No such user"), 550, false, true, false},
		{"550 5.0.0", "RCPT", smtpErr(550, smtp.EnhancedCodeNotSet, "No such user"), 550, false, true, false},
		{"550 mailbox full", "RCPT", smtpErr(550, smtp.EnhancedCode{5, 2, 2}, "Mailbox full"), 550, false, false, false},
		{"550 relaying denied", "RCPT", smtpErr(550, smtp.EnhancedCode{5, 7, 1}, "Relaying denied"), 550, false, false, false},
		{"550 5.1.1 after data", "DATA", smtpErr(550, smtp.EnhancedCode{5, 1, 1}, "No such user"), 550, false, true, false},
		{"551 moved", "RCPT", smtpErr(551, smtp.EnhancedCode{5, 1, 6}, "User moved"), 551, false, true, false},
		{"553 bad mailbox", "RCPT", smtpErr(553, smtp.EnhancedCode{5, 1, 3}, "Bad syntax"), 553, false, true, false},
		{"550 policy", "DATA", smtpErr(550, smtp.EnhancedCode{5, 7, 1}, "Rejected as spam"), 550, false, false, false},
		{"552 too big", "DATA", smtpErr(552, smtp.EnhancedCode{5, 3, 4}, "Too big"), 552, false, false, false},
		{"554 failed", "RCPT", smtpErr(554, smtp.EnhancedCode{5, 0, 0}, "Transaction failed"), 554, false, false, false},
		{"550 sender refused", "MAIL", smtpErr(550, smtp.EnhancedCode{5, 7, 1}, "Sender not allowed"), 550, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSink(t, sinkOptions{})
			s.reply(tt.cmd, tt.reply)
			n := newSMTP(t, s, "smtp://x?tls=none", email.SMTPOptions{})
			res, retry, err := n.Notify(context.Background(), message(t, gateway.EventIncidentCreated, 5))
			if err == nil || res.Code != tt.code || retry != tt.retry || res.Gone != tt.gone {
				t.Errorf("Notify = %+v retry=%v err=%v; want code %d retry=%v gone=%v", res, retry, err, tt.code, tt.retry, tt.gone)
			}
			if res.Response == "" {
				t.Error("Response is empty, want the server's reply")
			}
			notifyOK(t, n, message(t, gateway.EventIncidentCreated, 6))
			want := int32(1)
			if tt.reconnects {
				want = 2
			}
			if c := s.accepted.Load(); c != want {
				t.Errorf("%d connections, want %d", c, want)
			}
			if tt.cmd != "DATA" && !tt.reconnects && s.commands("RSET") != 1 {
				t.Errorf("%d RSET after a failed %s, want 1", s.commands("RSET"), tt.cmd)
			}
		})
	}
}

// TestSMTPServerDropsIdle: a pooled connection the server closed is
// replaced within the same Notify.
func TestSMTPServerDropsIdle(t *testing.T) {
	s := startSink(t, sinkOptions{})
	n := newSMTP(t, s, "smtp://x?tls=none", email.SMTPOptions{MaxConns: 2})
	notifyOK(t, n, message(t, gateway.EventTest, 1))
	s.dropConnections()
	notifyOK(t, n, message(t, gateway.EventTest, 2))
	if got := len(s.messages()); got != 2 {
		t.Errorf("sink got %d messages, want 2", got)
	}
	if c := s.accepted.Load(); c != 2 {
		t.Errorf("%d connections, want 2", c)
	}
}

func TestSMTPConnectionRefused(t *testing.T) {
	s := startSink(t, sinkOptions{})
	n := newSMTP(t, s, "smtp://x?tls=none", email.SMTPOptions{})
	n.Close()
	_, retry, err := n.Notify(context.Background(), message(t, gateway.EventTest, 1))
	if err == nil || !retry {
		t.Errorf("Notify after Close = %v retry=%v, want an error to retry", err, retry)
	}
	n2, err := email.NewSMTP(newBuilder(t, nil), email.SMTPOptions{URL: "smtp://127.0.0.1:1?tls=none"})
	if err != nil {
		t.Fatal(err)
	}
	_, retry, err = n2.Notify(context.Background(), message(t, gateway.EventTest, 1))
	if err == nil || !retry {
		t.Errorf("Notify to a closed port = %v retry=%v, want an error to retry", err, retry)
	}
}

// TestSMTPCancel: cancelling the context ends a transaction the server
// holds, and the attempt is retried.
func TestSMTPCancel(t *testing.T) {
	s := startSink(t, sinkOptions{})
	s.hold, s.holding = make(chan struct{}), make(chan struct{}, 1)
	defer close(s.hold)
	n := newSMTP(t, s, "smtp://x?tls=none", email.SMTPOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, retry, err := n.Notify(ctx, message(t, gateway.EventTest, 1))
		if !retry {
			err = fmt.Errorf("retry=false for %w", err)
		}
		done <- err
	}()
	<-s.holding
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Notify = %v, want a cancelled attempt to retry", err)
	}
}

// TestSMTPTLS: STARTTLS and implicit TLS with a certificate the test made,
// AUTH PLAIN over them, and refusals that are the configuration's fault
// retried.
func TestSMTPTLS(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	tests := []struct {
		name     string
		url      string
		implicit bool
	}{
		{"starttls", "smtp://mailer:s3cret@x?tls=starttls", false},
		{"opportunistic", "smtp://mailer:s3cret@x", false},
		{"implicit", "smtps://mailer:s3cret@x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSink(t, sinkOptions{tls: serverTLS, implicit: tt.implicit, user: "mailer", pass: "s3cret"})
			n := newSMTP(t, s, tt.url, email.SMTPOptions{TLSConfig: clientTLS})
			m := message(t, gateway.EventIncidentCreated, 21)
			notifyOK(t, n, m)
			notifyOK(t, n, message(t, gateway.EventIncidentUpdated, 22))
			got := s.messages()
			if len(got) != 2 || !got[0].TLS || !got[1].TLS {
				t.Fatalf("sink got %+v, want 2 messages over TLS", got)
			}
			checkHeaders(t, parse(t, got[0].Data), m)

			bad := newSMTP(t, s, "smtps://mailer:wrong@x", email.SMTPOptions{TLSConfig: clientTLS})
			if !tt.implicit {
				bad = newSMTP(t, s, "smtp://mailer:wrong@x?tls=starttls", email.SMTPOptions{TLSConfig: clientTLS})
			}
			res, retry, err := bad.Notify(context.Background(), m)
			if err == nil || !retry || res.Code != 535 {
				t.Errorf("wrong password: %+v retry=%v err=%v, want 535 to retry", res, retry, err)
			}
			untrusted := newSMTP(t, s, tt.url, email.SMTPOptions{TLSConfig: &tls.Config{}})
			if _, retry, err := untrusted.Notify(context.Background(), m); err == nil || !retry {
				t.Errorf("untrusted certificate: retry=%v err=%v, want an error to retry", retry, err)
			}
		})
	}
}

// TestSMTPNoStartTLS: an opportunistic sender talks plain text to a server
// without STARTTLS, but keeps credentials to itself; a required STARTTLS
// fails.
func TestSMTPNoStartTLS(t *testing.T) {
	s := startSink(t, sinkOptions{})
	notifyOK(t, newSMTP(t, s, "smtp://x", email.SMTPOptions{}), message(t, gateway.EventTest, 1))
	if got := s.messages(); len(got) != 1 || got[0].TLS {
		t.Errorf("sink got %+v, want one message in plain text", got)
	}
	for _, u := range []string{"smtp://user:pw@x", "smtp://x?tls=starttls"} {
		_, retry, err := newSMTP(t, s, u, email.SMTPOptions{}).Notify(context.Background(), message(t, gateway.EventTest, 2))
		if err == nil || !retry {
			t.Errorf("%s: retry=%v err=%v, want an error to retry", u, retry, err)
		}
	}
}
