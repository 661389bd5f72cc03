package config

import (
	"crypto"
	"fmt"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// Config is Herald's whole configuration. A *Config returned by Load has
// passed Validate, its secret _file fields have been read into the values
// they name (and are empty), and PublicURL has no trailing slash.
type Config struct {
	// Addr is the listen address, such as ":8080" or "127.0.0.1:8080".
	Addr string `yaml:"addr"`
	// DatabaseURL is "sqlite:PATH" or "postgres://…".
	DatabaseURL     string `yaml:"database_url"`
	DatabaseURLFile string `yaml:"database_url_file,omitempty"` // file holding DatabaseURL
	// PublicURL is the absolute http(s) base of links in messages.
	PublicURL string `yaml:"public_url"`
	// SMTPURL is "smtp://user:pass@host:port" or "smtps://…", optionally
	// with ?tls=starttls|implicit|none; empty means the file outbox.
	SMTPURL     string `yaml:"smtp_url"`
	SMTPURLFile string `yaml:"smtp_url_file,omitempty"` // file holding SMTPURL
	// OutboxDir is where the file outbox writes .eml files.
	OutboxDir string `yaml:"outbox_dir"`
	// MailFrom is the From of every message, an RFC 5322 address.
	MailFrom string `yaml:"mail_from"`
	// AdminToken is the bootstrap admin API key; empty means the first
	// start prints a generated one once.
	AdminToken     string `yaml:"admin_token"`
	AdminTokenFile string `yaml:"admin_token_file,omitempty"` // file holding AdminToken
	// AllowPrivateTargets lets webhook subscribers target loopback and
	// private addresses (tests, labs).
	AllowPrivateTargets bool `yaml:"allow_private_targets"`
	// TemplatesDir, when set, holds template overrides.
	TemplatesDir string `yaml:"templates_dir"`
	// SecretKey is the server's secret for signing tokens and links.
	SecretKey     string `yaml:"secret_key"`
	SecretKeyFile string `yaml:"secret_key_file,omitempty"` // file holding SecretKey
	// SupportEmail, when set, is the address shown for questions.
	SupportEmail string `yaml:"support_email"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// LogFormat is text or json.
	LogFormat string `yaml:"log_format"`

	Page        Page             `yaml:"page"`
	Components  []ComponentEntry `yaml:"components"`
	Sources     []Source         `yaml:"sources"`
	Rules       []Rule           `yaml:"rules"`
	Correlation Correlation      `yaml:"correlation"`
	Limits      Limits           `yaml:"limits"`
	SMTP        SMTP             `yaml:"smtp"`
	Delivery    Delivery         `yaml:"delivery"`
	DKIM        DKIM             `yaml:"dkim"`
	Probes      []Probe          `yaml:"probes"`
}

// Page describes the status page itself.
type Page struct {
	// Name is the page's title; it is never empty after Validate.
	Name string `yaml:"name"`
	// URL, when set, is the absolute URL readers know the page by.
	URL string `yaml:"url,omitempty"`
}

// ComponentEntry is one item of the components list: either a group (Group
// set, its members in Components) or a lone component (Name set). Validate
// guarantees exactly one of Group and Name is set, and that only a group has
// Components.
type ComponentEntry struct {
	Group       string          `yaml:"group,omitempty"`
	Name        string          `yaml:"name,omitempty"`
	Description string          `yaml:"description,omitempty"`
	Components  []ComponentDecl `yaml:"components,omitempty"`
	// DependsOn names the components a lone component depends on.
	DependsOn []string `yaml:"depends_on,omitempty"`
}

// ComponentDecl is a component inside a group. In YAML it is either a plain
// string (the name) or a mapping {name, description}.
type ComponentDecl struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	// DependsOn names the components this one depends on (its upstreams).
	DependsOn []string `yaml:"depends_on,omitempty"`
}

// DeclaredComponent is one component from the configuration, with where it
// sits on the page.
type DeclaredComponent struct {
	// Group is the name of the component's group, "" for a lone component.
	Group       string
	Name        string
	Description string
	// Position is the index within its group or, for a component without
	// a group, the index of its entry in the top-level list: groups and
	// lone components share the page's top level, in file order.
	Position int
	// DependsOn names the components it depends on.
	DependsOn []string
	// Path is the YAML path of the component's entry, for messages.
	Path string
}

// DeclaredGroup is one component group from the configuration.
type DeclaredGroup struct {
	Name, Description string
	// Position is the index of its entry in the top-level list, the
	// space lone components' positions share.
	Position int
}

// GroupDecls returns every declared group in file order.
func (c *Config) GroupDecls() []DeclaredGroup {
	var out []DeclaredGroup
	for i, e := range c.Components {
		if e.Group != "" {
			out = append(out, DeclaredGroup{Name: e.Group, Description: e.Description, Position: i})
		}
	}
	return out
}

// ComponentDecls returns every declared component, grouped or not, in file
// order. Entries that are neither a group nor a component (which Validate
// rejects) are skipped.
func (c *Config) ComponentDecls() []DeclaredComponent {
	var out []DeclaredComponent
	for top, e := range c.Components {
		switch {
		case e.Group != "":
			for i, d := range e.Components {
				out = append(out, DeclaredComponent{Group: e.Group, Name: d.Name, Description: d.Description, Position: i,
					DependsOn: d.DependsOn, Path: fmt.Sprintf("components[%d].components[%d]", top, i)})
			}
		case e.Name != "":
			out = append(out, DeclaredComponent{Name: e.Name, Description: e.Description, Position: top,
				DependsOn: e.DependsOn, Path: fmt.Sprintf("components[%d]", top)})
		}
	}
	return out
}

// Source is a monitoring tool allowed to post alerts to /ingest/{Name}.
type Source struct {
	// Name is the URL path segment; Validate guarantees it matches
	// ^[a-z0-9][a-z0-9_-]{0,62}$ and is unique.
	Name string `yaml:"name"`
	// Kind names its ingest format: a key of sources.Registry.
	Kind string `yaml:"kind"`
	// Token is the bearer token the tool sends; at least 16 characters.
	Token     string `yaml:"token,omitempty"`
	TokenFile string `yaml:"token_file,omitempty"` // file holding Token
	// RateLimit caps requests per second; 0 means unlimited.
	RateLimit float64 `yaml:"rate_limit,omitempty"`
}

// Rule routes alerts to components; see gateway.Rule. In YAML, match is
// either a mapping of label: value (equality matchers, in key order) or a
// list of matcher strings such as "service=~sp.*".
type Rule struct {
	Name string `yaml:"name,omitempty"`
	// Matchers must all match; an empty list matches every alert.
	Matchers []gateway.Matcher `yaml:"match"`
	// Components are names of components, declared in the file or created
	// through the API; Load does not require them to be declared.
	Components []string `yaml:"components"`
	// SeverityStatus keys are canonical severities (aliases such as "crit"
	// are normalized while loading).
	SeverityStatus map[gateway.Severity]gateway.ComponentStatus `yaml:"severity_status,omitempty"`
}

// The special values of Correlation fields.
const (
	// GroupByComponentGroup in Correlation.GroupBy groups alerts by the
	// component group their components belong to.
	GroupByComponentGroup = "component_group"
	// PublishAuto publishes automated incidents at once.
	PublishAuto = "auto"
	// PublishDraft keeps automated incidents as drafts until support
	// publishes them.
	PublishDraft = "draft"
)

// Correlation tunes how alerts become incidents.
type Correlation struct {
	// GroupBy says what an alert must share with an open automated incident
	// to join it: nothing (the whole page), GroupByComponentGroup, or label
	// names.
	GroupBy       []string `yaml:"group_by"`
	GroupWait     Duration `yaml:"group_wait"`
	GroupInterval Duration `yaml:"group_interval"`
	Window        Duration `yaml:"window"`
	ResolveAfter  Duration `yaml:"resolve_after"`
	// ResolveTimeout is the end given to an alert whose sender gave none,
	// counted from when it was last received (Alertmanager's
	// resolve_timeout): a sender that stops sending it resolves it.
	ResolveTimeout Duration `yaml:"resolve_timeout"`
	MinAlerts      int      `yaml:"min_alerts"`
	// InferUpstreamMin is how many dependents of one upstream must fire
	// within group_wait for Herald to name the upstream the probable
	// cause of their incident (see docs/probes.md); 0 means 3.
	InferUpstreamMin int  `yaml:"infer_upstream_min"`
	Flap             Flap `yaml:"flap"`
	// Publish is PublishAuto or PublishDraft.
	Publish string `yaml:"publish"`
}

// Flap sets flap detection: an alert that changes state more than Changes
// times within Window is flapping.
type Flap struct {
	Changes int      `yaml:"changes"`
	Window  Duration `yaml:"window"`
}

// Limits bounds request bodies and the fields of ingested alerts.
type Limits struct {
	IngestBody ByteSize `yaml:"ingest_body"`
	PublicBody ByteSize `yaml:"public_body"`
	// AlertLabels bounds how many labels, and how many annotations, one
	// alert may carry.
	AlertLabels int `yaml:"alert_labels"`
	// LabelNameBytes bounds a label's or an annotation's name.
	LabelNameBytes ByteSize `yaml:"label_name_bytes"`
	// LabelValueBytes bounds a label's value.
	LabelValueBytes ByteSize `yaml:"label_value_bytes"`
	// SummaryBytes bounds an alert's summary and each annotation's value
	// (the summary is taken from the annotations).
	SummaryBytes ByteSize `yaml:"summary_bytes"`
}

// Delivery tunes the delivery queue (the dispatcher).
type Delivery struct {
	// Lease is how long a claimed delivery belongs to the process that
	// claimed it without renewal (a live process renews it); after a crash
	// its claimed deliveries go out again once their lease ends. Must be
	// longer than SendTimeout.
	Lease Duration `yaml:"lease"`
	// SendTimeout bounds one send attempt (SMTP transaction or webhook
	// request, waiting for a connection included).
	SendTimeout Duration `yaml:"send_timeout"`
	// ClaimBatch bounds how many deliveries one claim takes; at least 1.
	ClaimBatch int `yaml:"claim_batch"`
	// Workers bounds the deliveries of one channel in hand at once; email
	// is further bounded to 8 per SMTP connection. At least 1.
	Workers int `yaml:"workers"`
	// WebhookPerHost bounds concurrent webhook requests to one host
	// (host:port), and the idle connections kept to it: one slow receiver
	// holds at most this many, and many subscribers on one service (a
	// chat provider's incoming webhooks) share them. At least 1.
	WebhookPerHost int `yaml:"webhook_per_host"`
}

// SMTP tunes outgoing mail.
type SMTP struct {
	// MaxConns bounds concurrent SMTP connections; at least 1.
	MaxConns int `yaml:"max_conns"`
	// Rate caps messages per second; 0 means unlimited.
	Rate float64 `yaml:"rate"`
}

// DKIM signs every outgoing message (RFC 6376), so that receivers can tell
// it comes from the sending domain and was not changed on the way. The
// three keys are set together or not at all; Load reads the key file and
// parses it into Signer.
type DKIM struct {
	// Domain is the signing domain (d=): mail_from's domain or a parent of
	// it, so that the signature aligns with From for DMARC.
	Domain string `yaml:"domain,omitempty"`
	// Selector (s=) names the key: its public half is published as a TXT
	// record at <selector>._domainkey.<domain>.
	Selector string `yaml:"selector,omitempty"`
	// PrivateKeyFile is a PEM file holding the private key: RSA (PKCS#1
	// "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY", 1024 bits or more) or
	// Ed25519 (PKCS#8).
	PrivateKeyFile string `yaml:"private_key_file,omitempty"`
	// Signer is the key read from PrivateKeyFile: an *rsa.PrivateKey or
	// an ed25519.PrivateKey. Set by Load; nil when DKIM is off.
	Signer crypto.Signer `yaml:"-"`
}

// Enabled reports whether mail is to be signed. On a loaded Config,
// Enabled means Domain, Selector and Signer are all set.
func (d DKIM) Enabled() bool { return d.Domain != "" || d.Selector != "" || d.PrivateKeyFile != "" }

// Probe is a check Herald runs itself; see gateway.Probe for what each key
// means. Keys left out take gateway.Probe's defaults.
type Probe struct {
	Name string `yaml:"name"`
	// Kind is dns, http or tcp.
	Kind string `yaml:"kind"`
	// Component names the component the probe's alerts go to (declared in
	// the file or made through the API).
	Component string `yaml:"component,omitempty"`
	Target    string `yaml:"target"`

	Record    string   `yaml:"record,omitempty"`
	Resolvers []string `yaml:"resolvers,omitempty"`
	Expect    []string `yaml:"expect,omitempty"`

	ExpectStatus     int      `yaml:"expect_status,omitempty"`
	BodyContains     string   `yaml:"body_contains,omitempty"`
	TLSExpiryWarning Duration `yaml:"tls_expiry_warning,omitempty"`

	Interval  Duration `yaml:"interval,omitempty"`
	Timeout   Duration `yaml:"timeout,omitempty"`
	Failures  int      `yaml:"failures,omitempty"`
	Successes int      `yaml:"successes,omitempty"`
	Severity  string   `yaml:"severity,omitempty"`
}

// Probe returns the probe as the domain has it, defaults applied. Severity
// aliases ("crit", "warn") are normalized; an unknown word is kept for
// Validate to name.
func (p Probe) Probe() gateway.Probe {
	gp := gateway.Probe{Name: p.Name, Kind: p.Kind, Target: p.Target, Record: p.Record,
		Resolvers: p.Resolvers, Expect: p.Expect, ExpectStatus: p.ExpectStatus, BodyContains: p.BodyContains,
		TLSExpiryWarning: time.Duration(p.TLSExpiryWarning), Interval: time.Duration(p.Interval),
		Timeout: time.Duration(p.Timeout), Failures: p.Failures, Successes: p.Successes,
		Severity: gateway.Severity(p.Severity), Origin: gateway.OriginConfig}
	if p.Severity != "" {
		gp.Severity = gateway.ParseSeverity(p.Severity, gateway.Severity(p.Severity))
	}
	gp.Defaults()
	return gp
}
