package email

import (
	"fmt"
	"net"
	"net/url"
)

// TLSMode is how a connection to the SMTP server is secured.
type TLSMode string

// TLS modes, as the tls parameter of smtp_url names them.
const (
	// TLSOpportunistic (smtp:// without tls=) upgrades with STARTTLS when
	// the server offers it and sends in plain text otherwise, but never
	// sends credentials in plain text.
	TLSOpportunistic TLSMode = ""
	// TLSStartTLS requires STARTTLS.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (smtps://, port 465).
	TLSImplicit TLSMode = "implicit"
	// TLSNone never uses TLS (a local relay or a test sink).
	TLSNone TLSMode = "none"
)

// Server is where and how mail is submitted, parsed from smtp_url.
type Server struct {
	Addr     string // host:port
	Host     string // for TLS verification
	TLS      TLSMode
	Username string
	Password string
}

// String returns the server without its password, for logs and errors.
func (s Server) String() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr}
	if s.TLS == TLSImplicit {
		u.Scheme = "smtps"
	} else if s.TLS != TLSOpportunistic {
		u.RawQuery = "tls=" + string(s.TLS)
	}
	if s.Username != "" {
		u.User = url.User(s.Username)
	}
	return u.String()
}

// ParseServer parses smtp://user:pass@host:port?tls=starttls|implicit|none
// or smtps://user:pass@host:port. The default port is 465 for implicit
// TLS, 587 for STARTTLS and 25 otherwise. Errors never repeat the URL,
// which holds a password.
func ParseServer(raw string) (Server, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Server{}, fmt.Errorf("email: smtp url does not parse")
	}
	var s Server
	switch u.Scheme {
	case "smtp":
	case "smtps":
		s.TLS = TLSImplicit
	default:
		return Server{}, fmt.Errorf("email: smtp url: unsupported scheme %q (want smtp or smtps)", u.Scheme)
	}
	for k, v := range u.Query() {
		if k != "tls" || len(v) != 1 {
			return Server{}, fmt.Errorf("email: smtp url: unknown or repeated parameter %q", k)
		}
		mode := TLSMode(v[0])
		switch {
		case mode != TLSStartTLS && mode != TLSImplicit && mode != TLSNone:
			return Server{}, fmt.Errorf("email: smtp url: unknown tls=%q", v[0])
		case u.Scheme == "smtps" && mode != TLSImplicit:
			return Server{}, fmt.Errorf("email: smtp url: smtps:// means tls=implicit, not %q", v[0])
		}
		s.TLS = mode
	}
	s.Host = u.Hostname()
	if s.Host == "" {
		return Server{}, fmt.Errorf("email: smtp url: no host")
	}
	port := u.Port()
	if port == "" {
		switch s.TLS {
		case TLSImplicit:
			port = "465"
		case TLSStartTLS:
			port = "587"
		default:
			port = "25"
		}
	}
	s.Addr = net.JoinHostPort(s.Host, port)
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	return s, nil
}
