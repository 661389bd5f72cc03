package probes_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/probes"
	"github.com/heraldstatus/herald/internal/loopdns"
	"github.com/heraldstatus/herald/internal/testcert"
)

func dnsProbe(resolvers ...string) *gateway.Probe {
	p := &gateway.Probe{Name: "dns", Kind: gateway.ProbeDNS, Target: "example.test", Record: "A",
		Resolvers: resolvers, Expect: []string{"192.0.2.10"}, Timeout: 300 * time.Millisecond}
	p.Defaults()
	return p
}

// TestDNSProbeSaysWhichResolverFailsAndHow checks each failure a resolver
// can have against a real DNS server on loopback, with a second resolver
// that stays right: the result names the failing one and the failure.
func TestDNSProbeSaysWhichResolverFailsAndHow(t *testing.T) {
	good, bad := newResolver(t), newResolver(t)
	r := probes.New(probes.Options{SystemResolvers: []string{}})
	p := dnsProbe(good.Addr, bad.Addr)
	tests := []struct {
		mode loopdns.Mode
		want string
	}{
		{loopdns.Wrong, `wrong answer ["192.0.2.66"] (want ["192.0.2.10"])`},
		{loopdns.ServFail, "SERVFAIL"},
		{loopdns.NXDomain, "NXDOMAIN"},
		{loopdns.Silent, "timeout"},
	}
	for _, tt := range tests {
		bad.Set(tt.mode)
		got := r.Check(context.Background(), p)
		if got.OK {
			t.Errorf("mode %d: OK, want a failure", tt.mode)
			continue
		}
		want := "1 of 2 resolvers fail: " + bad.Addr + " " + tt.want
		if !strings.Contains(got.Message, want) || strings.Contains(got.Message, good.Addr) {
			t.Errorf("mode %d: message %q, want it to contain %q and not name the good resolver", tt.mode, got.Message, want)
		}
	}
	bad.Set(loopdns.Right)
	if got := r.Check(context.Background(), p); !got.OK {
		t.Errorf("both right: %q, want OK", got.Message)
	}
	// Without expect, any answer will do.
	p.Expect = nil
	bad.Set(loopdns.Wrong)
	if got := r.Check(context.Background(), p); !got.OK {
		t.Errorf("no expect, wrong answer: %q, want OK", got.Message)
	}
}

func TestHTTPProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/down" {
			http.Error(w, "nope", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("status: all good"))
	}))
	defer srv.Close()
	r := probes.New(probes.Options{})
	probe := func(path string, f func(p *gateway.Probe)) probes.Outcome {
		p := &gateway.Probe{Name: "web", Kind: gateway.ProbeHTTP, Target: srv.URL + path}
		if f != nil {
			f(p)
		}
		p.Defaults()
		return r.Check(context.Background(), p)
	}
	if got := probe("/", nil); !got.OK || !got.TLSExpiry.IsZero() {
		t.Errorf("200: %+v, want OK without TLS", got)
	}
	if got := probe("/down", nil); got.OK || !strings.Contains(got.Message, "status 503 (want 2xx)") {
		t.Errorf("503: %+v", got)
	}
	if got := probe("/down", func(p *gateway.Probe) { p.ExpectStatus = 503 }); !got.OK {
		t.Errorf("503 expected: %+v", got)
	}
	if got := probe("/", func(p *gateway.Probe) { p.BodyContains = "all good" }); !got.OK {
		t.Errorf("body contains: %+v", got)
	}
	if got := probe("/", func(p *gateway.Probe) { p.BodyContains = "degraded" }); got.OK || !strings.Contains(got.Message, `does not contain "degraded"`) {
		t.Errorf("body lacks: %+v", got)
	}
}

// TestHTTPProbeSeesCertificateExpiry serves TLS with a certificate made
// here that expires in three days, trusted through Options.TLS.
func TestHTTPProbeSeesCertificateExpiry(t *testing.T) {
	notAfter := time.Now().Add(72 * time.Hour).Truncate(time.Second)
	server, client := testcert.New(t, notAfter)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	srv.TLS = server
	srv.StartTLS()
	defer srv.Close()

	p := &gateway.Probe{Name: "tls", Kind: gateway.ProbeHTTP, Target: srv.URL}
	p.Defaults()
	untrusting := probes.New(probes.Options{})
	if got := untrusting.Check(context.Background(), p); got.OK {
		t.Fatalf("an unknown authority was trusted: %+v", got)
	}
	r := probes.New(probes.Options{TLS: client})
	got := r.Check(context.Background(), p)
	if !got.OK || !got.TLSExpiry.Equal(notAfter) {
		t.Fatalf("got %+v, want OK with expiry %v", got, notAfter)
	}
}

func TestTCPProbe(t *testing.T) {
	ln := acceptor(t)
	r := probes.New(probes.Options{})
	p := &gateway.Probe{Name: "tcp", Kind: gateway.ProbeTCP, Target: ln.Addr().String()}
	p.Defaults()
	if got := r.Check(context.Background(), p); !got.OK {
		t.Errorf("open port: %+v", got)
	}
	ln.Close()
	if got := r.Check(context.Background(), p); got.OK || !strings.Contains(got.Message, "refused") {
		t.Errorf("closed port: %+v, want connection refused", got)
	}
}

// acceptor listens on loopback and closes every connection it accepts:
// the target of tcp probes.
func acceptor(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln
}
