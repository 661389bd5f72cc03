package netguard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Resolver looks host names up. *net.Resolver satisfies it; tests and
// callers with their own DNS pass theirs.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckURL reports whether raw may be a webhook target: an absolute http or
// https URL with a host, no user:password part, a valid port, and a host
// every address of which passes Check (a host name is resolved with r; a
// name that resolves to one public and one private address is refused). A
// refusal wraps ErrForbidden; a URL that is malformed or whose host does not
// resolve returns another error (the resolver's, wrapped), so a caller can
// tell "not allowed" from "try again later".
//
// CheckURL is the early check, when a URL is accepted; only Dialer, at
// connection time, stops a name that later resolves elsewhere.
func CheckURL(ctx context.Context, raw string, allowPrivate bool, r Resolver) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("netguard: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%w: scheme %q (want http or https)", ErrForbidden, u.Scheme)
	case u.Opaque != "":
		return fmt.Errorf("%w: not an absolute URL with a host", ErrForbidden)
	case u.User != nil:
		return fmt.Errorf("%w: credentials in the URL (user:password@) are not allowed", ErrForbidden)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: the URL has no host", ErrForbidden)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%w: invalid port %q", ErrForbidden, p)
		}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := Check(ip, allowPrivate); err != nil {
			return fmt.Errorf("netguard: %w", err)
		}
		return nil
	}
	if strings.HasPrefix(host, "[") || strings.Contains(host, "%") {
		return fmt.Errorf("%w: malformed host %q", ErrForbidden, host)
	}
	if numericLooking(host) {
		// 2130706433, 0x7f.1 or 127.1: some resolvers read these as IPv4
		// addresses, others as names; no real host name ends in a number.
		return fmt.Errorf("%w: host %q looks like an IP address in a non-standard form", ErrForbidden, host)
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("netguard: resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("netguard: resolve %s: no addresses", host)
	}
	for _, a := range addrs {
		if err := Check(a, allowPrivate); err != nil {
			return fmt.Errorf("netguard: %s: %w", host, err)
		}
	}
	return nil
}

// numericLooking reports whether the last label of host is all digits or a
// hexadecimal number, which no top-level domain is (RFC 3696 §2).
func numericLooking(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if hex, ok := strings.CutPrefix(strings.ToLower(last), "0x"); ok {
		return strings.Trim(hex, "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// addressOf parses the "ip:port" a dialer is about to connect to.
func addressOf(address string) (netip.Addr, error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("netguard: dial address %q: %w", address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: dial address %q is not an IP address", ErrForbidden, address)
	}
	return ip, nil
}
