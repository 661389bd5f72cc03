package gateway

import "net/netip"

// ClientNetwork is the unit every per-client limit counts by: an IPv4
// address itself (an IPv4-mapped IPv6 address as its IPv4 form), an IPv6
// address's /64, which is what one host or home usually holds, and the
// text as given when it is not an address.
func ClientNetwork(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a = a.Unmap(); a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
