package webhook

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"github.com/heraldstatus/herald/gateway/netguard"
)

// ClientOptions configure NewClient.
type ClientOptions struct {
	// AllowPrivate lets requests reach loopback and private addresses
	// (config allow_private_targets); see netguard.Check.
	AllowPrivate bool
	// Timeout bounds a whole request, connection to last byte read;
	// default 15 s.
	Timeout time.Duration
	// TLSConfig, when set, replaces the default TLS settings (tests pass
	// one that trusts their server's certificate).
	TLSConfig *tls.Config
	// PerHost is how many idle connections are kept per host; default
	// 16. Give it the Notifier's PerHost, so every request a host may
	// have in flight finds a kept connection.
	PerHost int
}

// NewClient returns the HTTP client webhooks share: every connection goes
// through netguard's Dialer (the resolved address is checked right before
// connecting), no proxy is used (a proxy would be dialled instead of the
// target, and the check with it), redirects are never followed, and a
// request takes at most Timeout. Keep one per process: its connection
// pool is what makes thousands of deliveries a second cheap.
func NewClient(o ClientOptions) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.PerHost <= 0 {
		o.PerHost = DefaultPerHost
	}
	dialer := netguard.NewDialer(&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}, o.AllowPrivate)
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       o.TLSConfig,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   o.PerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: o.Timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: tr, Timeout: o.Timeout, CheckRedirect: noRedirects}
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
