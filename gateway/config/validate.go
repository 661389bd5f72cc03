package config

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strings"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/sources"
)

// sourceKinds is the kinds of sources.Registry, the one list of ingest
// formats, as a validation message names them: the formats of named
// tools in order, then generic, the format for any other tool. Config
// imports the registry rather than keeping a list of its own: the
// registry and its format packages use only the standard library and
// the domain package, so the import costs nothing and cannot cycle (none
// of them reads the configuration).
func sourceKinds() []string {
	kinds := slices.DeleteFunc(sources.Kinds(), func(k string) bool { return k == "generic" })
	if _, ok := sources.Registry["generic"]; ok {
		kinds = append(kinds, "generic")
	}
	return kinds
}

// FieldError is one problem with one configuration key. Path names the key
// as it is written in YAML, such as "correlation.group_wait" or
// "sources[1].kind".
type FieldError struct {
	Path string
	Msg  string
}

// Error renders "path: problem".
func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

type problems []error

func (p *problems) add(path, format string, args ...any) {
	*p = append(*p, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Validate reports every problem with c at once, joined with errors.Join;
// each is a *FieldError naming the key. It does no I/O: files and
// directories named by c are not checked. Validate does not modify c.
func (c *Config) Validate() error {
	var p problems
	c.validateServer(&p)
	c.validateComponents(&p)
	c.validateDependencies(&p)
	c.validateSources(&p)
	c.validateRules(&p)
	c.validateCorrelation(&p)
	if c.Limits.IngestBody <= 0 {
		p.add("limits.ingest_body", "must be positive")
	}
	if c.Limits.PublicBody <= 0 {
		p.add("limits.public_body", "must be positive")
	}
	for _, l := range []struct {
		key string
		v   int64
	}{{"limits.alert_labels", int64(c.Limits.AlertLabels)}, {"limits.label_name_bytes", int64(c.Limits.LabelNameBytes)},
		{"limits.label_value_bytes", int64(c.Limits.LabelValueBytes)}, {"limits.summary_bytes", int64(c.Limits.SummaryBytes)}} {
		if l.v <= 0 {
			p.add(l.key, "must be positive")
		}
	}
	if c.SMTP.MaxConns < 1 {
		p.add("smtp.max_conns", "must be at least 1")
	}
	if !validRate(c.SMTP.Rate) {
		p.add("smtp.rate", "must be 0 (unlimited) or more messages per second")
	}
	c.validateDelivery(&p)
	c.validateDKIM(&p)
	c.validateProbes(&p)
	return errors.Join(p...)
}

func (c *Config) validateDelivery(p *problems) {
	d := c.Delivery
	if d.SendTimeout <= 0 {
		p.add("delivery.send_timeout", "must be positive")
	}
	if d.Lease <= d.SendTimeout {
		p.add("delivery.lease", "must be longer than delivery.send_timeout (%s), or a slow send could be taken over and sent twice", d.SendTimeout)
	}
	if d.ClaimBatch < 1 {
		p.add("delivery.claim_batch", "must be at least 1")
	}
	if d.Workers < 1 {
		p.add("delivery.workers", "must be at least 1")
	}
	if d.WebhookPerHost < 1 {
		p.add("delivery.webhook_per_host", "must be at least 1")
	}
}

func (c *Config) validateServer(p *problems) {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		p.add("addr", "must be host:port or :port (got %q)", c.Addr)
	}
	switch db := c.DatabaseURL; {
	case db == "":
		p.add("database_url", "required: sqlite:PATH or postgres://…")
	case strings.HasPrefix(db, "sqlite:"):
		if len(db) == len("sqlite:") {
			p.add("database_url", "sqlite: needs a file path, as in sqlite:herald.db")
		}
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		if _, err := url.Parse(db); err != nil {
			p.add("database_url", "not a valid postgres:// URL: %v", urlProblem(err))
		}
	default: // the value may hold a password: show only the scheme
		scheme, _, _ := strings.Cut(db, ":")
		p.add("database_url", "unsupported scheme %q (want sqlite:PATH or postgres://…)", scheme)
	}
	checkHTTPURL(p, "public_url", c.PublicURL)
	if c.SMTPURL != "" {
		checkSMTPURL(p, c.SMTPURL)
	} else if c.OutboxDir == "" {
		p.add("outbox_dir", "required when smtp_url is empty (mail is written there)")
	}
	if _, err := mail.ParseAddress(c.MailFrom); err != nil {
		p.add("mail_from", "%q is not an email address: %v", c.MailFrom, err)
	}
	if c.SupportEmail != "" {
		if _, err := mail.ParseAddress(c.SupportEmail); err != nil {
			p.add("support_email", "%q is not an email address: %v", c.SupportEmail, err)
		}
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		p.add("log_level", "unknown level %q (want debug, info, warn or error)", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		p.add("log_format", "unknown format %q (want text or json)", c.LogFormat)
	}
	if c.AdminToken != "" && len(c.AdminToken) < gateway.MinAdminTokenLength {
		p.add("admin_token", "HERALD_ADMIN_TOKEN must be at least %d characters (it is the admin key; make one with: openssl rand -hex 24)", gateway.MinAdminTokenLength)
	}
	for _, s := range c.secrets() {
		if *s.value != "" && *s.fil != "" {
			p.add(s.key, "set together with %s_file; use one", s.key)
		}
	}
	checkName(p, "page.name", c.Page.Name)
	if c.Page.URL != "" {
		checkHTTPURL(p, "page.url", c.Page.URL)
	}
}

func checkHTTPURL(p *problems, path, s string) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		p.add(path, "not a valid URL: %v", urlProblem(err))
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		p.add(path, "must be an absolute http or https URL (got %q)", s)
	case u.RawQuery != "" || u.Fragment != "":
		p.add(path, "must not have a query or fragment (got %q)", s)
	}
}

// checkSMTPURL never echoes the URL, which usually holds a password.
func checkSMTPURL(p *problems, s string) {
	u, err := url.Parse(s)
	if err != nil {
		p.add("smtp_url", "not a valid URL: %v", urlProblem(err))
		return
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		p.add("smtp_url", "unsupported scheme %q (want smtp:// or smtps://)", u.Scheme)
	}
	if u.Hostname() == "" {
		p.add("smtp_url", "needs a host, as in smtp://user:pass@mail.example.com:587")
	}
	for k, vs := range u.Query() {
		if k != "tls" {
			p.add("smtp_url", "unknown parameter %q (only tls is allowed)", k)
			continue
		}
		tls := vs[len(vs)-1]
		switch {
		case tls != "starttls" && tls != "implicit" && tls != "none":
			p.add("smtp_url", "unknown tls=%q (want starttls, implicit or none)", tls)
		case u.Scheme == "smtps" && tls != "implicit":
			p.add("smtp_url", "smtps:// means tls=implicit; use smtp:// with tls=%s", tls)
		}
	}
}

// urlProblem strips the URL itself from a url.Parse error.
func urlProblem(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// checkName applies the domain's rules for display names (gateway.ValidateName).
func checkName(p *problems, path, name string) {
	var ge *gateway.Error
	if err := gateway.ValidateName(path, name); errors.As(err, &ge) {
		p.add(path, "%s", strings.TrimPrefix(ge.Fields[path], "is "))
	}
}

func (c *Config) validateComponents(p *problems) {
	groups := map[string]string{}     // group name → path of its first use
	components := map[string]string{} // component name → path of its first use
	component := func(path, name string) {
		checkName(p, path, name)
		if first, dup := components[name]; dup && name != "" {
			p.add(path, "duplicate component %q (first at %s)", name, first)
		} else {
			components[name] = path
		}
	}
	for i, e := range c.Components {
		at := fmt.Sprintf("components[%d]", i)
		switch {
		case e.Group != "" && e.Name != "":
			p.add(at, "has both group and name; a group lists its members under components")
		case e.Group != "":
			checkName(p, at+".group", e.Group)
			if first, dup := groups[e.Group]; dup {
				p.add(at+".group", "duplicate group %q (first at %s)", e.Group, first)
			} else {
				groups[e.Group] = at
			}
			if len(e.Components) == 0 {
				p.add(at+".components", "a group needs at least one component")
			}
			for j, d := range e.Components {
				component(fmt.Sprintf("%s.components[%d].name", at, j), d.Name)
			}
		case e.Name != "":
			component(at+".name", e.Name)
			if len(e.Components) > 0 {
				p.add(at+".components", "only a group has components; write group: instead of name:")
			}
		default:
			p.add(at, "needs a group or a name")
		}
	}
}

func (c *Config) validateSources(p *problems) {
	names := map[string]int{}
	for i, s := range c.Sources {
		at := fmt.Sprintf("sources[%d]", i)
		switch first, dup := names[s.Name]; {
		case s.Name == "":
			p.add(at+".name", "required (it names the ingest URL, /ingest/{name})")
		case !gateway.SourceNameRE.MatchString(s.Name):
			p.add(at+".name", "%q must match %s (it is the path segment of /ingest/{name})", s.Name, gateway.SourceNameRE)
		case s.Name == gateway.ProbeSourceName:
			p.add(at+".name", "%q is reserved for the alerts of the built-in probes", s.Name)
		case dup:
			p.add(at+".name", "duplicate source %q (first at sources[%d])", s.Name, first)
		default:
			names[s.Name] = i
		}
		if _, ok := sources.Registry[s.Kind]; !ok {
			kinds := sourceKinds()
			p.add(at+".kind", "unknown kind %q (want %s or %s)", s.Kind,
				strings.Join(kinds[:len(kinds)-1], ", "), kinds[len(kinds)-1])
		}
		switch {
		case s.Token != "" && s.TokenFile != "":
			p.add(at+".token", "set together with token_file; use one")
		case s.Token == "" && s.TokenFile == "":
			p.add(at+".token", "required (or token_file): the bearer token the source sends")
		case s.Token != "" && len(s.Token) < 16:
			p.add(at+".token", "must be at least 16 characters")
		}
		if !validRate(s.RateLimit) {
			p.add(at+".rate_limit", "must be 0 (unlimited) or more requests per second")
		}
	}
}

func validRate(r float64) bool { return r >= 0 && !math.IsInf(r, 0) } // NaN fails r >= 0

var severities = []gateway.Severity{gateway.SeverityCritical, gateway.SeverityError, gateway.SeverityWarning, gateway.SeverityInfo}

func (c *Config) validateRules(p *problems) {
	for i, r := range c.Rules {
		at := fmt.Sprintf("rules[%d]", i)
		if r.Name != "" {
			checkName(p, at+".name", r.Name)
		}
		for j, m := range r.Matchers {
			if _, err := gateway.NewMatcher(m.Name, m.Op, m.Value); err != nil {
				p.add(fmt.Sprintf("%s.match[%d]", at, j), "%v", err)
			}
		}
		if len(r.Components) == 0 {
			p.add(at+".components", "required: the components this rule sets")
		}
		for j, name := range r.Components {
			if strings.TrimSpace(name) == "" {
				p.add(fmt.Sprintf("%s.components[%d]", at, j), "empty component name")
			}
		}
		for _, sev := range slices.Sorted(maps.Keys(r.SeverityStatus)) {
			switch st := r.SeverityStatus[sev]; {
			case !slices.Contains(severities, sev):
				p.add(at+".severity_status", "unknown severity %q (want critical, error, warning or info)", sev)
			case !st.Valid():
				p.add(fmt.Sprintf("%s.severity_status.%s", at, sev),
					"unknown status %q (want operational, degraded_performance, partial_outage, major_outage or under_maintenance)", st)
			}
		}
	}
}

func (c *Config) validateCorrelation(p *problems) {
	co := c.Correlation
	seen := map[string]bool{}
	for i, g := range co.GroupBy {
		at := fmt.Sprintf("correlation.group_by[%d]", i)
		if g != GroupByComponentGroup {
			if _, err := gateway.NewMatcher(g, gateway.MatchEqual, ""); err != nil {
				p.add(at, "%q is neither component_group nor a label name", g)
				continue
			}
		}
		if seen[g] {
			p.add(at, "%q is listed twice", g)
		}
		seen[g] = true
	}
	if co.GroupWait < 0 {
		p.add("correlation.group_wait", "must not be negative")
	}
	for _, d := range []struct {
		path string
		v    Duration
	}{
		{"correlation.group_interval", co.GroupInterval},
		{"correlation.window", co.Window},
		{"correlation.resolve_after", co.ResolveAfter},
		{"correlation.resolve_timeout", co.ResolveTimeout},
		{"correlation.flap.window", co.Flap.Window},
	} {
		if d.v <= 0 {
			p.add(d.path, "must be positive")
		}
	}
	if co.MinAlerts < 1 {
		p.add("correlation.min_alerts", "must be at least 1")
	}
	if co.InferUpstreamMin < 0 {
		p.add("correlation.infer_upstream_min", "must be at least 1 (0 or absent means 3)")
	}
	if co.Flap.Changes < 1 {
		p.add("correlation.flap.changes", "must be at least 1")
	}
	if co.Publish != PublishAuto && co.Publish != PublishDraft {
		p.add("correlation.publish", "unknown mode %q (want auto or draft)", co.Publish)
	}
}

// validateDependencies checks the depends_on lists of the declared
// components: names not blank, no self-dependency and no cycle among the
// components the file declares (the store checks the whole graph,
// components made through the API included, when it syncs).
func (c *Config) validateDependencies(p *problems) {
	edges := map[string][]string{}
	for _, d := range c.ComponentDecls() {
		for j, dep := range d.DependsOn {
			at := fmt.Sprintf("%s.depends_on[%d]", d.Path, j)
			switch {
			case strings.TrimSpace(dep) == "":
				p.add(at, "must name a component")
			case dep == d.Name:
				p.add(at, "a component cannot depend on itself")
			default:
				edges[d.Name] = append(edges[d.Name], dep)
			}
		}
	}
	if cycle := gateway.DependencyCycle(edges); cycle != nil {
		p.add("components", "depends_on makes a dependency cycle: %s", strings.Join(cycle, " → "))
	}
}

// validateProbes checks each probe with the domain's rules, naming the
// key as probes[i].key, and that names are unique.
func (c *Config) validateProbes(p *problems) {
	names := map[string]int{}
	for i, cp := range c.Probes {
		at := fmt.Sprintf("probes[%d]", i)
		gp := cp.Probe()
		bad := gp.Validate()
		for _, k := range slices.Sorted(maps.Keys(bad)) {
			p.add(at+"."+k, "%s", bad[k])
		}
		if first, dup := names[cp.Name]; dup && cp.Name != "" {
			p.add(at+".name", "duplicate probe %q (first at probes[%d])", cp.Name, first)
		} else {
			names[cp.Name] = i
		}
	}
}
