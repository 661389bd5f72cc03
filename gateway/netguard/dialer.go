package netguard

import (
	"context"
	"fmt"
	"net"
	"syscall"
)

// Dialer connects only to allowed addresses. Its DialContext has the
// signature of http.Transport.DialContext. The check runs in the
// net.Dialer's Control hook, on the resolved address of each connection
// attempt, right before connect(2): what DNS said a moment earlier cannot
// bypass it, and a name with several addresses is refused address by
// address.
type Dialer struct {
	base         net.Dialer
	allowPrivate bool
}

// NewDialer returns a Dialer that dials like base (timeouts, keep-alive,
// resolver, local address) and refuses forbidden addresses; allowPrivate
// lets loopback and private ranges through (see Check). base's own Control
// hook, if any, runs after the check.
func NewDialer(base *net.Dialer, allowPrivate bool) *Dialer {
	d := &Dialer{allowPrivate: allowPrivate}
	if base != nil {
		d.base = *base // a net.Dialer holds only settings; copying it is safe
	}
	next := d.base.Control
	d.base.ControlContext = nil
	d.base.Control = func(network, address string, c syscall.RawConn) error {
		if err := d.allowed(network, address); err != nil {
			return err
		}
		if next != nil {
			return next(network, address, c)
		}
		return nil
	}
	return d
}

// allowed is the Control check: TCP or UDP over IP only, to an address
// that passes Check.
func (d *Dialer) allowed(network, address string) error {
	switch network {
	case "tcp4", "tcp6", "udp4", "udp6":
	default:
		return fmt.Errorf("%w: network %q", ErrForbidden, network)
	}
	ip, err := addressOf(address)
	if err != nil {
		return err
	}
	if err := Check(ip, d.allowPrivate); err != nil {
		return fmt.Errorf("netguard: dial: %w", err)
	}
	return nil
}

// DialContext connects to address on the named network like
// net.Dialer.DialContext, unless the address it resolves to is forbidden:
// then the error wraps ErrForbidden (inside a *net.OpError).
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return d.base.DialContext(ctx, network, address)
}
