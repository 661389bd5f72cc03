package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Default returns the configuration Herald runs with when nothing is
// configured: :8080, SQLite in ./herald.db, mail written to ./outbox. It
// passes Validate.
func Default() *Config {
	return &Config{
		Addr:        ":8080",
		DatabaseURL: "sqlite:herald.db",
		PublicURL:   "http://localhost:8080",
		OutboxDir:   "./outbox",
		MailFrom:    "Status <status@localhost>",
		LogLevel:    "info",
		LogFormat:   "text",
		Page:        Page{Name: "Status"},
		Correlation: Correlation{
			GroupWait:        Duration(30 * time.Second),
			GroupInterval:    Duration(5 * time.Minute),
			Window:           Duration(30 * time.Minute),
			ResolveAfter:     Duration(15 * time.Minute),
			ResolveTimeout:   Duration(5 * time.Minute),
			MinAlerts:        1,
			InferUpstreamMin: 3,
			Flap:             Flap{Changes: 4, Window: Duration(30 * time.Minute)},
			Publish:          PublishAuto,
		},
		Limits: Limits{IngestBody: 10 << 20, PublicBody: 64 << 10,
			AlertLabels: 64, LabelNameBytes: 256, LabelValueBytes: 16 << 10, SummaryBytes: 64 << 10},
		SMTP: SMTP{MaxConns: 16},
		Delivery: Delivery{Lease: Duration(2 * time.Minute), SendTimeout: Duration(time.Minute),
			ClaimBatch: 256, Workers: 256, WebhookPerHost: 16},
	}
}

// Load returns the configuration: Default, then the YAML file at path (or,
// when path is "", the file named by HERALD_CONFIG, if any), then HERALD_*
// environment variables on top, then Validate. lookupEnv is os.LookupEnv in
// production. An empty HERALD_* variable counts as unset, so a compose file
// may pass through variables it does not define; inside the file, ${VAR}
// expands an empty VAR to "" and ${VAR:-default} to default.
//
// Load returns either a valid *Config or a nil *Config and an error joining
// every problem found, each naming its key and, where known, the file and
// line or the environment variable it came from.
func Load(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	env := func(name string) (string, bool) {
		v, ok := lookupEnv(name)
		return v, ok && v != ""
	}
	if path == "" {
		path, _ = env("HERALD_CONFIG")
	}
	l := &loader{cfg: Default(), origins: map[string]string{}, checker: newChecker(path)}
	// public_url follows addr unless it is set itself, so that moving
	// Herald to another port does not leave every link in mail pointing
	// at the old one.
	l.cfg.PublicURL = ""
	if path != "" {
		if err := l.readFile(path, lookupEnv); err != nil {
			return nil, err
		}
	}
	errs := l.applyEnv(env)
	errs = append(errs, l.readSecrets()...)
	if l.cfg.PublicURL == "" {
		l.cfg.PublicURL = PublicURLFor(l.cfg.Addr)
	}
	if err := l.readDKIMKey(); err != nil {
		errs = append(errs, err)
	}
	l.cfg.PublicURL = strings.TrimRight(l.cfg.PublicURL, "/")
	for _, err := range flatten(l.cfg.Validate()) {
		errs = append(errs, l.locate(err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return l.cfg, nil
}

var typeOfConfig = reflect.TypeFor[Config]()

type loader struct {
	cfg     *Config
	origins map[string]string // key path → environment variable that set it
	*checker
}

// readFile decodes the YAML at path over l.cfg, strictly and with ${VAR}
// expansion; the environment is used as given, so ${VAR:-x} sees "" as empty.
func (l *loader) readFile(path string, lookupEnv func(string) (string, bool)) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return syntaxError(path, err)
	}
	if len(doc.Content) == 0 { // empty file or only comments
		return nil
	}
	l.expandNode(&doc, "", lookupEnv)
	if err := l.err(); err != nil {
		return err
	}
	root := doc.Content[0]
	l.walk(root, typeOfConfig, "")
	if err := l.err(); err != nil {
		return err
	}
	if err := root.Decode(l.cfg); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	l.resolveFilePaths(filepath.Dir(path))
	return nil
}

// resolveFilePaths makes the file's relative _file paths relative to dir.
func (l *loader) resolveFilePaths(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	c := l.cfg
	for _, p := range []*string{&c.AdminTokenFile, &c.DatabaseURLFile, &c.SMTPURLFile, &c.SecretKeyFile, &c.DKIM.PrivateKeyFile} {
		abs(p)
	}
	for i := range c.Sources {
		abs(&c.Sources[i].TokenFile)
	}
}

// secret pairs a value with the _file key that may supply it.
type secret struct {
	key        string
	value, fil *string
}

func (c *Config) secrets() []secret {
	return []secret{
		{"admin_token", &c.AdminToken, &c.AdminTokenFile},
		{"database_url", &c.DatabaseURL, &c.DatabaseURLFile},
		{"smtp_url", &c.SMTPURL, &c.SMTPURLFile},
		{"secret_key", &c.SecretKey, &c.SecretKeyFile},
	}
}

// applyEnv lays HERALD_<KEY> variables over the file. A secret's variable
// replaces the file's value or _file, whichever the file used; setting both
// a secret's variable and its _FILE variable is an error.
func (l *loader) applyEnv(env func(string) (string, bool)) []error {
	c := l.cfg
	set := func(key string, p *string) {
		name := "HERALD_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		if v, ok := env(name); ok {
			*p = v
			l.origins[key] = name
		}
	}
	for _, s := range []struct {
		key string
		p   *string
	}{
		{"addr", &c.Addr}, {"public_url", &c.PublicURL}, {"outbox_dir", &c.OutboxDir},
		{"mail_from", &c.MailFrom}, {"templates_dir", &c.TemplatesDir},
		{"support_email", &c.SupportEmail}, {"log_level", &c.LogLevel}, {"log_format", &c.LogFormat},
		{"dkim.domain", &c.DKIM.Domain}, {"dkim.selector", &c.DKIM.Selector}, {"dkim.private_key_file", &c.DKIM.PrivateKeyFile},
	} {
		set(s.key, s.p)
	}
	var errs []error
	for _, s := range c.secrets() {
		name := "HERALD_" + strings.ToUpper(s.key)
		v, hasValue := env(name)
		f, hasFile := env(name + "_FILE")
		switch {
		case hasValue && hasFile:
			errs = append(errs, fmt.Errorf("%s and %s_FILE are both set; use one", name, name))
		case hasValue:
			*s.value, *s.fil = v, ""
			l.origins[s.key] = name
		case hasFile:
			*s.value, *s.fil = "", f
			l.origins[s.key+"_file"] = name + "_FILE"
		}
	}
	const private = "HERALD_ALLOW_PRIVATE_TARGETS"
	if v, ok := env(private); ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: invalid boolean %q (want true, false, 1 or 0)", private, v))
		} else {
			c.AllowPrivateTargets = b
			l.origins["allow_private_targets"] = private
		}
	}
	return errs
}

// readSecrets replaces each _file with the trimmed content of the file it
// names. A value set together with its _file is left for Validate to report.
func (l *loader) readSecrets() []error {
	var errs []error
	read := func(path string, value, fil *string) {
		if *fil == "" || *value != "" {
			return
		}
		data, err := os.ReadFile(*fil)
		switch {
		case err != nil:
			errs = append(errs, l.locate(&FieldError{Path: path, Msg: err.Error()}))
		case strings.TrimSpace(string(data)) == "":
			errs = append(errs, l.locate(&FieldError{Path: path, Msg: fmt.Sprintf("file %s is empty", *fil)}))
		default:
			*value, *fil = strings.TrimSpace(string(data)), ""
		}
	}
	for _, s := range l.cfg.secrets() {
		read(s.key+"_file", s.value, s.fil)
	}
	for i := range l.cfg.Sources {
		s := &l.cfg.Sources[i]
		read(fmt.Sprintf("sources[%d].token_file", i), &s.Token, &s.TokenFile)
	}
	return errs
}

// locate adds where a *FieldError's key was set: the environment variable,
// or the file and line of the key or its nearest enclosing key.
func (l *loader) locate(err error) error {
	var fe *FieldError
	if !errors.As(err, &fe) {
		return err
	}
	if name, ok := l.origins[fe.Path]; ok {
		return fmt.Errorf("%s: %w", name, err)
	}
	for p := fe.Path; p != ""; p = parent(p) {
		if line, ok := l.lines[p]; ok {
			return &LineError{File: l.file, Line: line, Err: err}
		}
	}
	return err
}

// parent drops the last element of a key path: "a[1].b" → "a[1]" → "a".
func parent(p string) string {
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[:i]
	}
	return ""
}

// PublicURLFor is the public_url Herald assumes when none is configured:
// http on the listen address, with localhost for a wildcard or empty host
// (":8080", "0.0.0.0:8080", "[::]:8080"). An address that does not parse
// gives the default's URL; Validate reports the address itself.
func PublicURLFor(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return Default().PublicURL
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
