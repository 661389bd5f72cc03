package gateway

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Probe kinds.
const (
	ProbeDNS  = "dns"
	ProbeHTTP = "http"
	ProbeTCP  = "tcp"
)

// ProbeKinds lists the kinds a probe may have.
var ProbeKinds = []string{ProbeDNS, ProbeHTTP, ProbeTCP}

// DNSRecordTypes lists the record types a DNS probe may ask for.
var DNSRecordTypes = []string{"A", "AAAA", "CNAME", "MX", "TXT"}

// Probe defaults, applied by Probe.Defaults.
const (
	DefaultProbeInterval  = 30 * time.Second
	DefaultProbeTimeout   = 5 * time.Second
	DefaultProbeFailures  = 2
	DefaultProbeSuccesses = 1
	DefaultTLSExpiryWarn  = 14 * 24 * time.Hour
	// MinProbeInterval is the shortest interval a probe may have.
	MinProbeInterval = time.Second
	// MaxProbeTimeout is the longest timeout a probe may have: a run is
	// leased for a little longer, and a replica that dies mid-run delays
	// the probe by that lease.
	MaxProbeTimeout = time.Minute
)

// Probe is a check Herald runs itself, once per Interval across all
// replicas. Its results become alerts of the source "probe" (fingerprint
// from Name), routed to Component, so correlation, flapping and
// maintenance treat them like any monitoring tool's.
type Probe struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// ComponentID is the component its alerts go to, "" for none.
	ComponentID string `json:"component_id,omitempty"`
	// Target is a DNS name (dns), a URL (http) or host:port (tcp).
	Target string `json:"target"`

	// Record is the DNS record type asked for (dns).
	Record string `json:"record,omitempty"`
	// Resolvers are host:port of the DNS servers asked; none means the
	// system's (dns).
	Resolvers []string `json:"resolvers,omitempty"`
	// Expect, when set, are the values every resolver must answer, in any
	// order (dns).
	Expect []string `json:"expect,omitempty"`

	// ExpectStatus is the HTTP status wanted; 0 means any 2xx (http).
	ExpectStatus int `json:"expect_status,omitempty"`
	// BodyContains, when set, must occur in the response body (http).
	BodyContains string `json:"body_contains,omitempty"`
	// TLSExpiryWarning fires a warning when the server's certificate
	// expires sooner than this (http, https targets).
	TLSExpiryWarning time.Duration `json:"tls_expiry_warning,omitempty"`

	Interval time.Duration `json:"interval"`
	Timeout  time.Duration `json:"timeout"`
	// Failures is how many failed runs in a row make the probe down;
	// Successes how many good ones in a row make it up again.
	Failures  int      `json:"failures"`
	Successes int      `json:"successes"`
	Severity  Severity `json:"severity"`

	Origin    Origin    `json:"origin"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Defaults fills the keys left unset with their defaults.
func (p *Probe) Defaults() {
	if p.Interval == 0 {
		p.Interval = DefaultProbeInterval
	}
	if p.Timeout == 0 {
		p.Timeout = DefaultProbeTimeout
	}
	if p.Failures == 0 {
		p.Failures = DefaultProbeFailures
	}
	if p.Successes == 0 {
		p.Successes = DefaultProbeSuccesses
	}
	if p.Severity == "" {
		p.Severity = SeverityCritical
	}
	if p.Kind == ProbeHTTP && p.TLSExpiryWarning == 0 {
		p.TLSExpiryWarning = DefaultTLSExpiryWarn
	}
	if p.Kind == ProbeDNS {
		p.Record = strings.ToUpper(p.Record)
		if p.Record == "" {
			p.Record = "A"
		}
	}
}

var probeNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// Validate checks a probe after Defaults and returns every problem, each
// naming its key as written in the configuration and the API ("kind",
// "target", "expect[1]"…). It does no I/O: whether the component exists is
// the store's to say.
func (p *Probe) Validate() map[string]string {
	bad := map[string]string{}
	if !probeNameRE.MatchString(p.Name) {
		bad["name"] = fmt.Sprintf("%q must match %s (it names the probe's alerts and URL)", p.Name, probeNameRE)
	}
	switch p.Kind {
	case ProbeDNS:
		p.validateDNS(bad)
	case ProbeHTTP:
		p.validateHTTP(bad)
	case ProbeTCP:
		if p.Target == "" {
			bad["target"] = "is required: host:port"
		} else if err := checkHostPort(p.Target); err != nil {
			bad["target"] = err.Error()
		}
	default:
		bad["kind"] = fmt.Sprintf("unknown kind %q (want dns, http or tcp)", p.Kind)
	}
	if p.Kind != ProbeDNS {
		for _, k := range []struct {
			key string
			set bool
		}{{"record", p.Record != ""}, {"resolvers", len(p.Resolvers) > 0}, {"expect", len(p.Expect) > 0}} {
			if k.set {
				bad[k.key] = "only a dns probe takes it"
			}
		}
	}
	if p.Kind != ProbeHTTP {
		if p.ExpectStatus != 0 {
			bad["expect_status"] = "only an http probe takes it"
		}
		if p.BodyContains != "" {
			bad["body_contains"] = "only an http probe takes it"
		}
	}
	if p.Interval < MinProbeInterval {
		bad["interval"] = fmt.Sprintf("must be at least 1s (got %s)", p.Interval)
	}
	switch {
	case p.Timeout <= 0:
		bad["timeout"] = "must be positive"
	case p.Timeout > MaxProbeTimeout:
		bad["timeout"] = fmt.Sprintf("must be at most %s", MaxProbeTimeout)
	case p.Timeout > p.Interval && p.Interval >= MinProbeInterval:
		bad["timeout"] = fmt.Sprintf("must not be longer than interval (%s)", p.Interval)
	}
	if p.Failures < 1 {
		bad["failures"] = "must be at least 1"
	}
	if p.Successes < 1 {
		bad["successes"] = "must be at least 1"
	}
	if !slices.Contains([]Severity{SeverityCritical, SeverityError, SeverityWarning, SeverityInfo}, p.Severity) {
		bad["severity"] = fmt.Sprintf("unknown severity %q (want critical, error, warning or info)", p.Severity)
	}
	if p.TLSExpiryWarning < 0 {
		bad["tls_expiry_warning"] = "must not be negative"
	}
	return bad
}

// Check applies the defaults to p and validates it, with the problems the
// caller found while reading it (found; they win over Validate's for the
// same key). It returns nil, or one EUNPROCESSABLE error naming every key.
// The config file, the API and the console all check a probe with it.
func (p *Probe) Check(found map[string]string) error {
	p.Defaults()
	bad := p.Validate()
	for k, v := range found {
		bad[k] = v
	}
	if len(bad) == 0 {
		return nil
	}
	keys := make([]string, 0, len(bad))
	for k := range bad {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	msgs := make([]string, len(keys))
	for i, k := range keys {
		msgs[i] = k + ": " + bad[k]
	}
	return &Error{Code: EUNPROCESSABLE, Message: "The probe is not valid: " + strings.Join(msgs, "; ") + ".", Fields: bad}
}

func (p *Probe) validateDNS(bad map[string]string) {
	switch {
	case p.Target == "":
		bad["target"] = "is required: the DNS name to resolve"
	case !validDNSName(p.Target):
		bad["target"] = fmt.Sprintf("%q is not a DNS name", p.Target)
	}
	if !slices.Contains(DNSRecordTypes, p.Record) {
		bad["record"] = fmt.Sprintf("unknown record type %q (want A, AAAA, CNAME, MX or TXT)", p.Record)
		return
	}
	for i, r := range p.Resolvers {
		if err := checkHostPort(r); err != nil {
			bad[fmt.Sprintf("resolvers[%d]", i)] = err.Error()
		}
	}
	for i, v := range p.Expect {
		if msg := expectProblem(p.Record, v); msg != "" {
			bad[fmt.Sprintf("expect[%d]", i)] = msg
		}
	}
}

// expectProblem says why v cannot be an answer of record type rec, or "".
func expectProblem(rec, v string) string {
	ip := net.ParseIP(v)
	switch rec {
	case "A":
		if ip == nil || ip.To4() == nil {
			return fmt.Sprintf("%q is not an IPv4 address, which an A record holds", v)
		}
	case "AAAA":
		if ip == nil || ip.To4() != nil {
			return fmt.Sprintf("%q is not an IPv6 address, which an AAAA record holds", v)
		}
	case "CNAME", "MX":
		if ip != nil || !validDNSName(v) {
			return fmt.Sprintf("%q is not a host name, which a %s record holds", v, rec)
		}
	case "TXT":
		if v == "" {
			return "must not be empty"
		}
	}
	return ""
}

func (p *Probe) validateHTTP(bad map[string]string) {
	if p.Target == "" {
		bad["target"] = "is required: an http or https URL"
	} else if u, err := url.Parse(p.Target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad["target"] = fmt.Sprintf("%q is not an absolute http or https URL", p.Target)
	}
	if p.ExpectStatus != 0 && (p.ExpectStatus < 100 || p.ExpectStatus > 599) {
		bad["expect_status"] = fmt.Sprintf("%d is not an HTTP status (want 100-599, or leave it out for any 2xx)", p.ExpectStatus)
	}
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return fmt.Errorf("%q is not host:port", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q has no valid port", s)
	}
	return nil
}

func validDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}

// ProbeResult is one run of a probe.
type ProbeResult struct {
	At       time.Time     `json:"at"`
	OK       bool          `json:"ok"`
	Duration time.Duration `json:"-"`
	// Message says what failed (which resolvers, and how), or what was
	// seen on success.
	Message string `json:"message"`
}
