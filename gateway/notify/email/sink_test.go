package email_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/heraldstatus/herald/internal/testcert"
)

// sink is a real SMTP server (go-smtp's, in process) that records what it
// receives and can be told to refuse: the receiver every SMTP test talks to.
type sink struct {
	mu       sync.Mutex
	received []received
	// replies are consumed in order by the commands they name ("RCPT",
	// "DATA"); a nil entry accepts.
	replies map[string][]error
	// hold, when set, makes DATA wait until it is closed, after saying so
	// on holding.
	hold    chan struct{}
	holding chan struct{}
	conns   []*smtp.Conn

	user, pass string // AUTH PLAIN credentials; empty: no AUTH offered

	accepted   atomic.Int32 // TCP connections accepted
	transcript bytes.Buffer // the protocol, both ways (server Debug)
	addr       string
}

type received struct {
	From    string
	To      []string
	Data    []byte
	TLS     bool
	Session int // which connection, in accept order
}

type sinkOptions struct {
	tls      *tls.Config // offered with STARTTLS
	implicit bool        // TLS from the first byte instead
	user     string
	pass     string
}

// startSink starts a sink on 127.0.0.1 and stops it when the test ends.
func startSink(t *testing.T, o sinkOptions) *sink {
	t.Helper()
	s := &sink{replies: map[string][]error{}, user: o.user, pass: o.pass}
	srv := smtp.NewServer(s)
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = o.tls == nil && !o.implicit
	srv.Debug = lockedWriter{&s.mu, &s.transcript}
	log := &testLogger{t: t}
	srv.ErrorLog = log
	var l net.Listener
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	l = &countingListener{Listener: l, n: &s.accepted}
	if o.implicit {
		l = tls.NewListener(l, o.tls)
	} else {
		srv.TLSConfig = o.tls
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		srv.Close()
		log.stop()
	})
	return s
}

// testLogger writes the sink's errors to the test's log until the test
// ends: a connection the server is still closing may report after that,
// and the testing package forbids (and the race detector flags) a log
// line after its test is done.
type testLogger struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (l *testLogger) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done = true
}

func (l *testLogger) Printf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Logf("sink: "+format, v...)
	}
}

func (l *testLogger) Println(v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Log(append([]any{"sink:"}, v...)...)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// reply queues the answer to the next command of its kind.
func (s *sink) reply(cmd string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies[cmd] = append(s.replies[cmd], err)
}

func (s *sink) next(cmd string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.replies[cmd]) == 0 {
		return nil
	}
	err := s.replies[cmd][0]
	s.replies[cmd] = s.replies[cmd][1:]
	return err
}

func (s *sink) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.received...)
}

// commands counts the client's commands that start with verb.
func (s *sink) commands(verb string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for line := range strings.SplitSeq(s.transcript.String(), "\n") {
		if strings.HasPrefix(strings.ToUpper(line), strings.ToUpper(verb)) {
			n++
		}
	}
	return n
}

// dropConnections closes every connection the sink has open, as a server
// does to clients that idle too long.
func (s *sink) dropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

func (s *sink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	return &session{sink: s, conn: c, id: int(s.accepted.Load())}, nil
}

type session struct {
	sink *sink
	conn *smtp.Conn
	id   int
	from string
	to   []string
	auth bool
}

func (x *session) AuthMechanisms() []string {
	if x.sink.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.sink.user || pass != x.sink.pass {
			return smtp.ErrAuthFailed
		}
		x.auth = true
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.sink.user != "" && !x.auth {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return x.sink.next("MAIL")
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := x.sink.next("RCPT"); err != nil {
		return err
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if x.sink.hold != nil {
		x.sink.holding <- struct{}{}
		<-x.sink.hold
	}
	if err := x.sink.next("DATA"); err != nil {
		return err
	}
	_, isTLS := x.conn.TLSConnectionState()
	x.sink.mu.Lock()
	defer x.sink.mu.Unlock()
	x.sink.received = append(x.sink.received, received{From: x.from, To: x.to, Data: b, TLS: isTLS, Session: x.id})
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// smtpErr builds a reply such as 451 4.3.0.
func smtpErr(code int, enhanced smtp.EnhancedCode, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: msg}
}

// selfSigned returns a server TLS configuration for 127.0.0.1 and
// localhost, and a client configuration that trusts it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	return testcert.New(t, time.Now().Add(time.Hour))
}

func (s *sink) dump() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transcript.String()
}
