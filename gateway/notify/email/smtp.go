package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"golang.org/x/time/rate"

	"github.com/heraldstatus/herald/gateway/notify"
)

// SMTPOptions configure an SMTP sender. Zero values mean the defaults named.
type SMTPOptions struct {
	// URL is smtp_url (see ParseServer).
	URL string
	// MaxConns bounds the connections to the server (smtp.max_conns);
	// default 1.
	MaxConns int
	// Rate caps messages per second across all connections (smtp.rate);
	// 0 means unlimited.
	Rate float64
	// MessagesPerConn recycles a connection after this many messages;
	// default 100.
	MessagesPerConn int
	// IdleTimeout closes a connection that idled longer instead of reusing
	// it; default 30 s (servers commonly drop idle clients after a minute).
	IdleTimeout time.Duration
	// CommandTimeout bounds each command's reply; default 1 min.
	// SubmissionTimeout bounds the reply to the end of the data; default 5 min.
	CommandTimeout    time.Duration
	SubmissionTimeout time.Duration
	// HelloName is the EHLO name; default the sending domain. (Before
	// STARTTLS, go-smtp introduces itself as "localhost".)
	HelloName string
	// TLSConfig is the base TLS configuration (RootCAs, say); nil means
	// the system roots. ServerName defaults to the URL's host.
	TLSConfig *tls.Config
	// Dial opens TCP connections; nil means a net.Dialer with a 30 s timeout.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logger receives debug lines about connections; nil discards them.
	Logger *slog.Logger
}

// SMTP sends messages through one SMTP server over a pool of reused
// connections. It implements notify.Notifier and is safe for concurrent
// use by any number of workers: at most MaxConns connections exist, and
// at most Rate messages a second leave.
//
// A connection stays open across messages: after an accepted message the
// next MAIL FROM follows directly; RSET (after which go-smtp's client says
// EHLO again) is sent only after a failed transaction. A connection is
// recycled after MessagesPerConn messages, and dropped on any network
// error or 421 reply. When a reused connection turns out to have been
// closed by the server before MAIL FROM was answered, the message is sent
// on another connection within the same call.
type SMTP struct {
	b       *Builder
	server  Server
	opts    SMTPOptions
	pool    *pool
	limiter *rate.Limiter // nil: unlimited
	log     *slog.Logger
	noTLS   atomic.Bool // an opportunistic server turned out not to offer STARTTLS
}

var _ notify.Notifier = (*SMTP)(nil)

// NewSMTP returns a sender for the server of o.URL. It does not connect:
// the first message does. Close it to end its connections.
func NewSMTP(b *Builder, o SMTPOptions) (*SMTP, error) {
	server, err := ParseServer(o.URL)
	if err != nil {
		return nil, err
	}
	if o.Rate < 0 {
		return nil, fmt.Errorf("email: smtp rate %v is negative", o.Rate)
	}
	o.MaxConns = max(o.MaxConns, 1)
	if o.MessagesPerConn <= 0 {
		o.MessagesPerConn = 100
	}
	o.IdleTimeout = orDefault(o.IdleTimeout, 30*time.Second)
	o.CommandTimeout = orDefault(o.CommandTimeout, time.Minute)
	o.SubmissionTimeout = orDefault(o.SubmissionTimeout, 5*time.Minute)
	if o.HelloName == "" {
		o.HelloName = b.domain
	}
	if o.Dial == nil {
		o.Dial = (&net.Dialer{Timeout: 30 * time.Second}).DialContext
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &SMTP{b: b, server: server, opts: o, log: o.Logger.With("smtp_server", server.String())}
	if o.Rate > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(o.Rate), 1)
	}
	s.pool = newPool(o.MaxConns, o.MessagesPerConn, o.IdleTimeout, s.connect, s.quit)
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Concurrency is MaxConns: the dispatcher keeps a few deliveries per
// connection in hand (notify.Concurrent), not hundreds waiting for one.
func (s *SMTP) Concurrency() int { return s.opts.MaxConns }

// Close ends the idle connections with QUIT and makes every later Notify
// fail (retry=true); connections in use end when their message is done.
func (s *SMTP) Close() error {
	s.pool.close()
	return nil
}

// Notify builds m and submits it. See classify for what is retried: in
// short, 4xx replies and connection trouble are, 5xx replies are not, and
// 550/551/553 for the recipient's mailbox sets Result.Gone.
func (s *SMTP) Notify(ctx context.Context, m *notify.Message) (notify.Result, bool, error) {
	env, err := s.b.Build(m)
	if err != nil {
		return notify.Result{}, false, err
	}
	if s.limiter != nil {
		if err := s.limiter.Wait(ctx); err != nil {
			return notify.Result{}, true, fmt.Errorf("email: rate limit: %w", err)
		}
	}
	for attempt := 0; ; attempt++ {
		c, err := s.pool.get(ctx)
		if err != nil {
			res, retry := classify(err, stageConnect)
			// Waiting for a busy pool past the deadline says nothing of
			// the server; failing to connect says it is down.
			res.ChannelDown = ctx.Err() == nil && !errors.Is(err, errClosed)
			return res, retry, fmt.Errorf("email: %s: %w", s.server, err)
		}
		resp, stage, err := s.transact(ctx, c, env)
		if err == nil {
			c.sent++
			s.pool.put(c, !c.broken)
			return notify.Result{Code: 250, Response: capResponse(resp)}, false, nil
		}
		// A reused connection the server dropped while it idled fails at
		// once, before anything of the message was accepted.
		stale := c.reused && stage == stageMail && (!isSMTPReply(err, 0) || isSMTPReply(err, 421))
		s.pool.put(c, s.recover(c, stage, err))
		if stale && attempt < s.opts.MaxConns && ctx.Err() == nil {
			s.log.Debug("reused connection was closed by the server; trying another", "error", err)
			continue
		}
		res, retry := classify(err, stage)
		// A connection that broke, or a server closing (421), is the
		// server's trouble, not the recipient's.
		res.ChannelDown = ctx.Err() == nil && (isSMTPReply(err, 421) || !isSMTPReply(err, 0) && transient(err))
		return res, retry, fmt.Errorf("email: send delivery %d: %s: %w", m.DeliveryID, stage, err)
	}
}

// The stages of a transaction, for classification and errors.
const (
	stageConnect = "connect"
	stageMail    = "MAIL FROM"
	stageRcpt    = "RCPT TO"
	stageData    = "DATA"
	stageEnd     = "end of data"
)

// transact runs one mail transaction on c. Cancelling ctx closes the
// connection, which ends any command in flight.
func (s *SMTP) transact(ctx context.Context, c *conn, env *Envelope) (resp, stage string, err error) {
	stop := context.AfterFunc(ctx, func() { c.raw.Close() })
	defer func() {
		if stop() {
			return
		}
		// ctx ended and closed the connection. A message the server
		// accepted was still sent (reporting a failure would send it
		// twice); otherwise report the cancellation, not the broken pipe
		// it caused.
		c.broken = true
		if err != nil {
			err = fmt.Errorf("%w: %w", ctx.Err(), err)
		}
	}()
	opts := &smtp.MailOptions{Size: int64(len(env.Data)), UTF8: !isASCII(env.From) || !isASCII(env.To)}
	if err := c.client.Mail(env.From, opts); err != nil {
		return "", stageMail, err
	}
	if err := c.client.Rcpt(env.To, nil); err != nil {
		return "", stageRcpt, err
	}
	w, err := c.client.Data()
	if err != nil {
		return "", stageData, err
	}
	if _, err := w.Write(env.Data); err != nil {
		return "", stageData, err
	}
	r, err := w.CloseWithResponse()
	if err != nil {
		return "", stageEnd, err
	}
	return r.StatusText, "", nil
}

// recover reports whether c can carry another message after err: only
// after an SMTP reply other than 421, and only when RSET (needed for a
// transaction that failed before its end) succeeds.
func (s *SMTP) recover(c *conn, stage string, err error) bool {
	var se *smtp.SMTPError
	if c.broken || !errors.As(err, &se) || se.Code == 421 {
		return false
	}
	if stage == stageEnd {
		return true // the reply to the data ends the transaction
	}
	return c.client.Reset() == nil
}

func isSMTPReply(err error, code int) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se) && (code == 0 || se.Code == code)
}

// connect dials the server and readies a connection: TLS as the URL says,
// EHLO, and AUTH PLAIN when the URL has credentials.
func (s *SMTP) connect(ctx context.Context) (*conn, error) {
	raw, err := s.opts.Dial(ctx, "tcp", s.server.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	c, err := s.handshake(ctx, raw)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		raw.Close()
		if errors.Is(err, errNoStartTLS) && s.server.TLS == TLSOpportunistic {
			s.noTLS.Store(true)
			s.log.Info("the server does not offer STARTTLS; sending in plain text")
			return s.connect(ctx)
		}
		return nil, err
	}
	s.log.Debug("connected")
	return &conn{client: c, raw: raw}, nil
}

var errNoStartTLS = errors.New("the server does not offer STARTTLS")

func (s *SMTP) handshake(ctx context.Context, raw net.Conn) (*smtp.Client, error) {
	cfg := s.tlsConfig()
	var c *smtp.Client
	switch {
	case s.server.TLS == TLSImplicit:
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		c = smtp.NewClient(tc)
	case s.server.TLS == TLSStartTLS || s.server.TLS == TLSOpportunistic && !s.noTLS.Load():
		var err error
		if c, err = smtp.NewClientStartTLS(raw, cfg); err != nil {
			if strings.Contains(err.Error(), "doesn't support STARTTLS") {
				return nil, fmt.Errorf("starttls: %w", errNoStartTLS)
			}
			return nil, fmt.Errorf("starttls: %w", err)
		}
	default:
		c = smtp.NewClient(raw)
	}
	c.CommandTimeout, c.SubmissionTimeout = s.opts.CommandTimeout, s.opts.SubmissionTimeout
	if err := c.Hello(s.opts.HelloName); err != nil {
		c.Close()
		return nil, fmt.Errorf("ehlo: %w", err)
	}
	if s.server.Username == "" {
		return c, nil
	}
	if _, isTLS := c.TLSConnectionState(); !isTLS && s.server.TLS != TLSNone {
		c.Close()
		return nil, errors.New("auth: refusing to send credentials without TLS (set tls=none to allow it)")
	}
	if err := c.Auth(sasl.NewPlainClient("", s.server.Username, s.server.Password)); err != nil {
		c.Close()
		return nil, fmt.Errorf("auth: %w", err)
	}
	return c, nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.opts.TLSConfig != nil {
		cfg = s.opts.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.server.Host
	}
	return cfg
}

// quit ends c with QUIT, waiting at most a few seconds for the reply.
func (s *SMTP) quit(c *conn) {
	c.client.CommandTimeout = 5 * time.Second
	if err := c.client.Quit(); err != nil {
		c.raw.Close()
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
