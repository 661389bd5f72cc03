package netguard_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway/netguard"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		addr string
		// allowed by default, and with allowPrivate
		open, openPrivate bool
	}{
		// public unicast
		{"8.8.8.8", true, true},
		{"93.184.216.34", true, true},
		{"172.15.255.255", true, true},
		{"172.32.0.1", true, true},
		{"100.63.255.255", true, true},
		{"100.128.0.1", true, true},
		{"192.169.0.1", true, true},
		{"2606:4700:4700::1111", true, true},
		{"::ffff:8.8.8.8", true, true},
		{"64:ff9b::808:808", true, true}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", true, true},  // 6to4 of 8.8.8.8
		// loopback, private, link-local, CGNAT, this-network
		{"127.0.0.1", false, true},
		{"127.255.255.254", false, true},
		{"10.1.2.3", false, true},
		{"172.16.0.1", false, true},
		{"172.31.255.255", false, true},
		{"192.168.1.1", false, true},
		{"169.254.1.1", false, true},
		{"100.64.0.1", false, true},
		{"100.127.255.255", false, true},
		{"0.0.0.0", false, true},
		{"0.1.2.3", false, true},
		{"198.18.0.1", false, true},
		{"::", false, true},
		{"::1", false, true},
		{"fc00::1", false, true},
		{"fd12:3456::1", false, true},
		{"fe80::1", false, true},
		{"fe80::1%eth0", false, true},
		{"fec0::1", false, true},
		// IPv6 forms that carry a forbidden IPv4 address
		{"::ffff:127.0.0.1", false, true},
		{"::ffff:10.0.0.1", false, true},
		{"::ffff:0.0.0.0", false, true},
		{"::127.0.0.1", false, true},       // IPv4-compatible
		{"64:ff9b::7f00:1", false, true},   // NAT64 of 127.0.0.1
		{"64:ff9b::c0a8:101", false, true}, // NAT64 of 192.168.1.1
		{"64:ff9b:1::1", false, true},      // local-use NAT64
		{"2002:7f00:1::1", false, true},    // 6to4 of 127.0.0.1
		{"2002:a00:1::1", false, true},     // 6to4 of 10.0.0.1
		// never: metadata, multicast, broadcast, documentation, reserved
		{"169.254.169.254", false, false},
		{"169.254.170.2", false, false},
		{"100.100.100.200", false, false},
		{"fd00:ec2::254", false, false},
		{"::ffff:169.254.169.254", false, false},
		{"64:ff9b::a9fe:a9fe", false, false},
		{"224.0.0.1", false, false},
		{"239.255.255.250", false, false},
		{"255.255.255.255", false, false},
		{"240.0.0.1", false, false},
		{"192.0.2.10", false, false},
		{"203.0.113.7", false, false},
		{"2001:db8::1", false, false},
		{"ff02::1", false, false},
		{"::ffff:224.0.0.1", false, false},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", false, false}, // Teredo
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.addr)
		for _, allowPrivate := range []bool{false, true} {
			want := tt.open
			if allowPrivate {
				want = tt.openPrivate
			}
			err := netguard.Check(ip, allowPrivate)
			if got := err == nil; got != want {
				t.Errorf("Check(%s, allowPrivate=%v) = %v, want allowed=%v", tt.addr, allowPrivate, err, want)
			}
			if err != nil && !errors.Is(err, netguard.ErrForbidden) {
				t.Errorf("Check(%s) = %v, does not wrap ErrForbidden", tt.addr, err)
			}
		}
	}
	if err := netguard.Check(netip.Addr{}, true); !errors.Is(err, netguard.ErrForbidden) {
		t.Errorf("Check(zero) = %v, want ErrForbidden", err)
	}
}

// staticResolver answers from a table, so tests of CheckURL need no DNS.
type staticResolver map[string][]string

func (r staticResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := r[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

var hosts = staticResolver{
	"hooks.example.com":  {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
	"mixed.example.com":  {"93.184.216.34", "10.0.0.7"},
	"rebind.example.com": {"::ffff:127.0.0.1"},
	"empty.example.com":  {},
}

func TestCheckURL(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		url       string
		forbidden bool // wraps ErrForbidden; else another error or nil
		ok        bool
	}{
		{"https://hooks.example.com/herald", false, true},
		{"http://hooks.example.com:8080/x?y=1", false, true},
		{"https://93.184.216.34/hook", false, true},
		{"https://[2606:4700:4700::1111]:443/hook", false, true},
		{"https://mixed.example.com/", true, false},
		{"https://rebind.example.com/", true, false},
		{"http://127.0.0.1:8080/", true, false},
		{"http://[::1]/", true, false},
		{"http://[::ffff:7f00:1]/", true, false},
		{"http://169.254.169.254/latest/meta-data/", true, false},
		{"http://[fe80::1%25eth0]/", true, false},
		{"http://2130706433/", true, false},
		{"http://0x7f.1/", true, false},
		{"http://127.1/", true, false},
		{"http://hooks.example.com.123/", true, false},
		{"ftp://hooks.example.com/", true, false},
		{"javascript:alert(1)", true, false},
		{"mailto:ops@example.com", true, false},
		{"https://user:pw@hooks.example.com/", true, false},
		{"https://user@hooks.example.com/", true, false},
		{"https:///path", true, false},
		{"https://hooks.example.com:0/", true, false},
		{"https://hooks.example.com:99999/", true, false},
		{"/relative/path", true, false},
		{"https://unknown.example.com/", false, false},
		{"https://empty.example.com/", false, false},
		{"https://hooks.example.com/%zz", false, false},
	}
	for _, tt := range tests {
		err := netguard.CheckURL(ctx, tt.url, false, hosts)
		if (err == nil) != tt.ok || errors.Is(err, netguard.ErrForbidden) != tt.forbidden {
			t.Errorf("CheckURL(%q) = %v, want ok=%v forbidden=%v", tt.url, err, tt.ok, tt.forbidden)
		}
	}
	if err := netguard.CheckURL(ctx, "http://127.0.0.1:8080/", true, hosts); err != nil {
		t.Errorf("CheckURL(loopback, allowPrivate) = %v, want nil", err)
	}
	if err := netguard.CheckURL(ctx, "http://169.254.169.254/", true, hosts); !errors.Is(err, netguard.ErrForbidden) {
		t.Errorf("CheckURL(metadata, allowPrivate) = %v, want ErrForbidden", err)
	}
}

// TestCheckURLLocalhost resolves with the system resolver: localhost comes
// from /etc/hosts, no network needed.
func TestCheckURLLocalhost(t *testing.T) {
	err := netguard.CheckURL(context.Background(), "http://localhost:8080/hook", false, net.DefaultResolver)
	var ae *netguard.AddressError
	if !errors.Is(err, netguard.ErrForbidden) || !errors.As(err, &ae) || !ae.Addr.IsLoopback() {
		t.Errorf("CheckURL(localhost) = %v, want a loopback AddressError", err)
	}
}

func client(allowPrivate bool) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: netguard.NewDialer(&net.Dialer{}, allowPrivate).DialContext,
	}}
}

// TestDialer sends real requests to an httptest server on 127.0.0.1.
func TestDialer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") }))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	byName := "http://localhost:" + u.Port() + "/"
	for _, target := range []string{srv.URL, byName} {
		resp, err := client(false).Get(target)
		if err == nil {
			resp.Body.Close()
			t.Errorf("GET %s with the default guard succeeded, want a refusal", target)
		} else if !errors.Is(err, netguard.ErrForbidden) {
			t.Errorf("GET %s = %v, want an error wrapping ErrForbidden", target, err)
		}
	}
	resp, err := client(true).Get(srv.URL)
	if err != nil {
		t.Fatalf("GET %s with allowPrivate: %v", srv.URL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d, want 200", resp.StatusCode)
	}
}

// TestDialerNetwork: only IP networks are dialled.
func TestDialerNetwork(t *testing.T) {
	d := netguard.NewDialer(nil, true)
	_, err := d.DialContext(context.Background(), "unix", "/var/run/docker.sock")
	if !errors.Is(err, netguard.ErrForbidden) || !strings.Contains(err.Error(), `network "unix"`) {
		t.Errorf("dial unix = %v, want a refusal", err)
	}
}
