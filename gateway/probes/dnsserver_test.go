package probes_test

import (
	"net"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// Modes of the test resolver.
const (
	modeRight int32 = iota
	modeWrong
	modeServfail
	modeNXDomain
	modeSilent
)

// resolver is an in-process DNS server on loopback (miekg/dns's server)
// whose answers a test switches between right, wrong, SERVFAIL, NXDOMAIN
// and silence. It answers A example.test with 192.0.2.10 when right and
// 192.0.2.66 when wrong, and counts the queries it got.
type resolver struct {
	Addr    string
	mode    atomic.Int32
	queries atomic.Int64
}

func newResolver(t *testing.T) *resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &resolver{Addr: pc.LocalAddr().String()}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(r.serve)}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return r
}

func (r *resolver) set(mode int32) { r.mode.Store(mode) }

func (r *resolver) serve(w dns.ResponseWriter, q *dns.Msg) {
	r.queries.Add(1)
	m := new(dns.Msg)
	m.SetReply(q)
	switch r.mode.Load() {
	case modeSilent:
		return // no answer: the client times out
	case modeServfail:
		m.Rcode = dns.RcodeServerFailure
	case modeNXDomain:
		m.Rcode = dns.RcodeNameError
	default:
		ip := "192.0.2.10"
		if r.mode.Load() == modeWrong {
			ip = "192.0.2.66"
		}
		if q.Question[0].Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A:   net.ParseIP(ip)})
		}
	}
	_ = w.WriteMsg(m)
}
