package netguard_test

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"testing"

	"github.com/heraldstatus/herald/gateway/netguard"
)

// FuzzCheckURL: whatever the input, CheckURL does not panic, and a URL it
// accepts is an http(s) URL with a host, no credentials, and only allowed
// addresses.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://hooks.example.com/herald", "http://127.0.0.1:8080/", "http://[::ffff:7f00:1]/",
		"http://2130706433/", "http://0x7f.1/", "https://user:pw@hooks.example.com/",
		"http://[fe80::1%25eth0]:80/", "https://mixed.example.com/", "//hooks.example.com", "http://hooks.example.com:/",
		"http://[64:ff9b::a9fe:a9fe]/", "HTTP://HOOKS.EXAMPLE.COM/",
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, allowPrivate bool) {
		err := netguard.CheckURL(context.Background(), raw, allowPrivate, hosts)
		if err != nil {
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil {
			t.Fatalf("accepted %q, which does not parse: %v", raw, perr)
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" || u.User != nil {
			t.Fatalf("accepted %q: scheme %q host %q user %v", raw, u.Scheme, u.Hostname(), u.User)
		}
		if ip, perr := netip.ParseAddr(u.Hostname()); perr == nil {
			if cerr := netguard.Check(ip, allowPrivate); cerr != nil {
				t.Fatalf("accepted %q with a forbidden address: %v", raw, cerr)
			}
		} else if _, known := hosts[u.Hostname()]; !known {
			t.Fatalf("accepted %q, whose host the resolver does not know", raw)
		}
	})
}

// FuzzCheck: allowPrivate never refuses what the default allows, every
// refusal wraps ErrForbidden, and an IPv4-mapped address is judged as the
// IPv4 address it carries.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::", "8.8.8.8", "fe80::1"} {
		b := netip.MustParseAddr(s).As16()
		f.Add(b[:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != 16 {
			return
		}
		ip := netip.AddrFrom16([16]byte(b))
		strict, loose := netguard.Check(ip, false), netguard.Check(ip, true)
		if strict == nil && loose != nil {
			t.Fatalf("%s: allowed by default but refused with allowPrivate: %v", ip, loose)
		}
		for _, err := range []error{strict, loose} {
			if err != nil && !errors.Is(err, netguard.ErrForbidden) {
				t.Fatalf("%s: %v does not wrap ErrForbidden", ip, err)
			}
		}
		if ip.Is4In6() {
			v4 := ip.Unmap()
			if (netguard.Check(v4, false) == nil) != (strict == nil) {
				t.Fatalf("%s judged unlike %s: %v vs %v", ip, v4, strict, netguard.Check(v4, false))
			}
		}
	})
}
