// Package loopdns is a DNS server on loopback whose answers its owner
// switches: right, wrong, SERVFAIL, NXDOMAIN or silence. herald demo runs
// one as the resolver its DNS probe asks, failing while the replayed
// outage lasts; the probe tests run one to see each failure as a resolver
// gives it, and count the queries it got to show that a probe ran once per
// interval across replicas. It is miekg/dns's server, over UDP (the probe
// asks over UDP first; the answers are never truncated).
package loopdns

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Mode is how the server answers.
type Mode int32

// The modes.
const (
	// Right answers A questions with Options.Right.
	Right Mode = iota
	// Wrong answers A questions with Options.Wrong.
	Wrong
	// ServFail answers SERVFAIL: the resolver cannot resolve.
	ServFail
	// NXDomain answers that the name does not exist.
	NXDomain
	// Silent answers nothing: the asker times out.
	Silent
)

// Options configure a Server.
type Options struct {
	// Right and Wrong are the IPv4 addresses the right and wrong answers
	// hold (defaults 192.0.2.10 and 192.0.2.66, from the documentation
	// range). Every name gets them: the server is a fake of one resolver,
	// not of the DNS.
	Right, Wrong string
}

// Server is a running loopback DNS server.
type Server struct {
	// Addr is host:port of the server, for a probe's resolvers.
	Addr string

	o       Options
	srv     *dns.Server
	mode    atomic.Int32
	queries atomic.Int64
	mu      sync.Mutex
	byName  map[string]int64
	stop    sync.Once
	stopErr error
}

// Start listens on a random UDP port of 127.0.0.1 and serves until Close
// is called or ctx ends, whichever is first. It answers Right at first.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Right == "" {
		o.Right = "192.0.2.10"
	}
	if o.Wrong == "" {
		o.Wrong = "192.0.2.66"
	}
	for _, ip := range []string{o.Right, o.Wrong} {
		if a := net.ParseIP(ip); a == nil || a.To4() == nil {
			return nil, errors.New("loopdns: " + ip + " is not an IPv4 address")
		}
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: pc.LocalAddr().String(), o: o, byName: map[string]int64{}}
	s.srv = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve)}
	started := make(chan struct{})
	s.srv.NotifyStartedFunc = func() { close(started) }
	failed := make(chan error, 1)
	go func() { failed <- s.srv.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-failed:
		pc.Close()
		return nil, err
	}
	// The server's lifetime is bounded by ctx: its owner may return
	// without calling Close and leave no goroutine behind.
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-failed:
		}
	}()
	return s, nil
}

// Close stops the server; further calls return the first one's error.
func (s *Server) Close() error {
	s.stop.Do(func() { s.stopErr = s.srv.Shutdown() })
	return s.stopErr
}

// Set switches how the server answers from the next question on.
func (s *Server) Set(m Mode) { s.mode.Store(int32(m)) }

// Queries returns how many questions the server got.
func (s *Server) Queries() int64 { return s.queries.Load() }

// QueriesFor returns how many questions about name (with or without the
// trailing dot, any case) the server got.
func (s *Server) QueriesFor(name string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byName[dns.CanonicalName(name)]
}

func (s *Server) serve(w dns.ResponseWriter, q *dns.Msg) {
	s.queries.Add(1)
	if len(q.Question) > 0 {
		s.mu.Lock()
		s.byName[dns.CanonicalName(q.Question[0].Name)]++
		s.mu.Unlock()
	}
	m := new(dns.Msg)
	m.SetReply(q)
	switch mode := Mode(s.mode.Load()); mode {
	case Silent:
		return // no answer: the client times out
	case ServFail:
		m.Rcode = dns.RcodeServerFailure
	case NXDomain:
		m.Rcode = dns.RcodeNameError
	default:
		ip := s.o.Right
		if mode == Wrong {
			ip = s.o.Wrong
		}
		for _, qq := range q.Question {
			if qq.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
					A:   net.ParseIP(ip)})
			}
		}
	}
	// A write that fails (the asker gone) leaves it to time out, which is
	// what it would see of a lost packet.
	_ = w.WriteMsg(m)
}
