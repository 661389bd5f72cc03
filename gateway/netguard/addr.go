// Package netguard keeps outgoing requests that a user chose the target of
// (webhook subscribers' URLs) away from Herald's own network: loopback,
// private and link-local ranges, the cloud metadata service, and every
// other address that is not a public unicast host.
//
// It checks twice. CheckURL, when a URL is accepted, resolves its host and
// refuses it if any address is forbidden. Dialer, used as an
// http.Transport's DialContext, checks the very address a connection is
// about to be made to (in net.Dialer.Control, after DNS), so a name that
// resolves to a public address at the first check and to 127.0.0.1 at the
// second (DNS rebinding) is still refused.
package netguard

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrForbidden is wrapped by every refusal of this package, so callers can
// tell a refused target (permanent: the subscriber's URL is not allowed)
// from a network failure (worth retrying) with errors.Is.
var ErrForbidden = errors.New("netguard: target address not allowed")

// AddressError is a refusal of one address: which one and why. It wraps
// ErrForbidden.
type AddressError struct {
	Addr   netip.Addr
	Reason string // such as "loopback", "private", "cloud metadata"
}

// Error says which address was refused and why.
func (e *AddressError) Error() string {
	return fmt.Sprintf("address %s is %s, not an allowed target", e.Addr, e.Reason)
}

// Unwrap makes errors.Is(err, ErrForbidden) true.
func (e *AddressError) Unwrap() error { return ErrForbidden }

type rangeRule struct {
	prefix netip.Prefix
	reason string
}

func mustRules(pairs ...string) []rangeRule {
	rules := make([]rangeRule, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		rules = append(rules, rangeRule{netip.MustParsePrefix(pairs[i]), pairs[i+1]})
	}
	return rules
}

// metadata are the cloud instance-metadata services, refused even when
// private targets are allowed: no lab needs a webhook to them, and they hand
// out credentials.
var metadata = mustRules(
	"169.254.169.254/32", "cloud metadata", // AWS, GCP, Azure, OpenStack, DigitalOcean…
	"169.254.170.2/32", "cloud metadata", // AWS ECS task metadata
	"100.100.100.200/32", "cloud metadata", // Alibaba Cloud
	"fd00:ec2::254/128", "cloud metadata", // AWS over IPv6
)

// private are the ranges that reach the operator's own hosts and networks;
// allowPrivate lets them through (tests, labs).
var private = mustRules(
	"0.0.0.0/8", "this-network (0.0.0.0/8)",
	"10.0.0.0/8", "private",
	"100.64.0.0/10", "carrier-grade NAT",
	"127.0.0.0/8", "loopback",
	"169.254.0.0/16", "link-local",
	"172.16.0.0/12", "private",
	"192.0.0.0/24", "IETF protocol assignment",
	"192.168.0.0/16", "private",
	"198.18.0.0/15", "benchmarking",
	"::/128", "unspecified",
	"::1/128", "loopback",
	"64:ff9b:1::/48", "local-use NAT64",
	"fc00::/7", "unique local (private)",
	"fe80::/10", "link-local",
	"fec0::/10", "site-local",
)

// special are ranges that are never a public unicast host: documentation,
// multicast, broadcast, reserved, discard.
var special = mustRules(
	"192.0.2.0/24", "documentation",
	"192.88.99.0/24", "6to4 relay anycast",
	"198.51.100.0/24", "documentation",
	"203.0.113.0/24", "documentation",
	"224.0.0.0/4", "multicast",
	"240.0.0.0/4", "reserved",
	"255.255.255.255/32", "broadcast",
	"100::/64", "discard-only",
	"2001::/32", "Teredo",
	"2001:db8::/32", "documentation",
	"ff00::/8", "multicast",
)

// Check returns nil when ip may be a target, or an *AddressError saying why
// not. IPv6 forms that embed an IPv4 address (IPv4-mapped ::ffff:a.b.c.d,
// IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d, 6to4 2002:AABB:CCDD::)
// are judged by the IPv4 address they carry. With allowPrivate, loopback,
// private, link-local and similar ranges are allowed; the cloud metadata
// addresses, multicast, broadcast, documentation and reserved ranges never
// are. An invalid (zero) address is refused.
func Check(ip netip.Addr, allowPrivate bool) error {
	if !ip.IsValid() {
		return &AddressError{Addr: ip, Reason: "invalid"}
	}
	ip = ip.WithZone("")
	if v4, ok := embeddedIPv4(ip); ok {
		var inner *AddressError
		if errors.As(Check(v4, allowPrivate), &inner) {
			return &AddressError{Addr: ip, Reason: inner.Reason + " (embeds IPv4 " + v4.String() + ")"}
		}
		if ip.Is4In6() {
			return nil
		}
	}
	lists := [][]rangeRule{metadata, special}
	if !allowPrivate {
		lists = append(lists, private)
	}
	for _, list := range lists {
		for _, r := range list {
			if r.prefix.Contains(ip) {
				return &AddressError{Addr: ip, Reason: r.reason}
			}
		}
	}
	return nil
}

var (
	ipv4Compatible = netip.MustParsePrefix("::/96")
	nat64          = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
)

// embeddedIPv4 returns the IPv4 address an IPv6 address carries in one of
// the forms that make a host reach it: IPv4-mapped, IPv4-compatible
// (deprecated, but some stacks still route it), the NAT64 well-known prefix
// and 6to4.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	if !ip.Is6() {
		return netip.Addr{}, false
	}
	if ip.Is4In6() {
		return ip.Unmap(), true
	}
	b := ip.As16()
	switch {
	case ipv4Compatible.Contains(ip):
		if ip == netip.IPv6Unspecified() || ip == netip.IPv6Loopback() {
			return netip.Addr{}, false // judged as themselves
		}
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case nat64.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}
