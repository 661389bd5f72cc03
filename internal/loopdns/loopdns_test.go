package loopdns_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/heraldstatus/herald/internal/loopdns"
)

// ask sends one A question and returns the rcode and the first answer's
// address ("" for none), or the exchange's error.
func ask(t *testing.T, addr, name string) (int, string, error) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	c := &dns.Client{Net: "udp", Timeout: 300 * time.Millisecond}
	in, _, err := c.Exchange(m, addr)
	if err != nil {
		return 0, "", err
	}
	if len(in.Answer) == 0 {
		return in.Rcode, "", nil
	}
	return in.Rcode, in.Answer[0].(*dns.A).A.String(), nil
}

// Each mode answers as it says, the questions are counted per name, and
// the server stops when its context ends.
func TestModesCountsAndLifetime(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := loopdns.Start(ctx, loopdns.Options{Right: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if host, _, err := net.SplitHostPort(s.Addr); err != nil || host != "127.0.0.1" {
		t.Fatalf("Addr = %q (%v), want 127.0.0.1:port", s.Addr, err)
	}
	for _, tt := range []struct {
		mode  loopdns.Mode
		rcode int
		ip    string
	}{
		{loopdns.Right, dns.RcodeSuccess, "192.0.2.1"},
		{loopdns.Wrong, dns.RcodeSuccess, "192.0.2.66"},
		{loopdns.ServFail, dns.RcodeServerFailure, ""},
		{loopdns.NXDomain, dns.RcodeNameError, ""},
	} {
		s.Set(tt.mode)
		rcode, ip, err := ask(t, s.Addr, "a.example.test")
		if err != nil || rcode != tt.rcode || ip != tt.ip {
			t.Errorf("mode %d: rcode %d, answer %q, err %v; want %d, %q", tt.mode, rcode, ip, err, tt.rcode, tt.ip)
		}
	}
	s.Set(loopdns.Silent)
	if _, _, err := ask(t, s.Addr, "b.example.test"); err == nil {
		t.Error("silent: an answer came")
	}
	if got := s.QueriesFor("A.example.test."); got != 4 {
		t.Errorf("questions about a.example.test = %d, want 4", got)
	}
	if got := s.Queries(); got != 5 {
		t.Errorf("questions = %d, want 5", got)
	}

	s.Set(loopdns.Right)
	cancel()
	deadline := time.Now().Add(10 * time.Second) // a hang guard
	for {
		if _, _, err := ask(t, s.Addr, "c.example.test"); err != nil {
			break // stopped: nothing answers
		}
		if time.Now().After(deadline) {
			t.Fatal("the server still answers after its context ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after the context ended: %v", err)
	}
}
