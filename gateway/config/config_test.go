package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// envMap returns a lookupEnv backed by m.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// writeFile writes content to name in a fresh temporary directory.
func writeFile(tb testing.TB, name, content string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

func mustLoad(tb testing.TB, path string, env map[string]string) *Config {
	tb.Helper()
	c, err := Load(path, envMap(env))
	if err != nil {
		tb.Fatalf("Load(%q): %v", path, err)
	}
	return c
}

func matcherStrings(ms []gateway.Matcher) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.String())
	}
	return out
}

func TestLoadFull(t *testing.T) {
	got := mustLoad(t, "testdata/full.yml", map[string]string{"PROM_TOKEN": "prom-token-0123456789"})

	wantRules := [][]string{
		{`env="prod"`, `service="space"`},
		{`service=~"(reservation|booking)"`, `instance!~".*\\.internal$"`, `job!="blackbox"`},
	}
	for i, r := range got.Rules {
		if m := matcherStrings(r.Matchers); !reflect.DeepEqual(m, wantRules[i]) {
			t.Errorf("rules[%d] matchers: got %q, want %q", i, m, wantRules[i])
		}
	}
	rules := got.Rules
	got.Rules = nil

	want := &Config{
		Addr:                "127.0.0.1:9090",
		DatabaseURL:         "postgres://herald:secret@db:5432/herald?sslmode=disable",
		PublicURL:           "https://status.example.com",
		SMTPURL:             "smtp://mailer:pw@mail.example.com:587?tls=starttls",
		OutboxDir:           "/var/lib/herald/outbox",
		MailFrom:            "Eptura Status <status@example.com>",
		AdminToken:          "admin-token-from-the-default-0123",
		AllowPrivateTargets: true,
		TemplatesDir:        "/etc/herald/templates",
		SecretKey:           "0123456789abcdef0123456789abcdef",
		SupportEmail:        "support@example.com",
		LogLevel:            "debug",
		LogFormat:           "json",
		Page:                Page{Name: "Eptura Workplace", URL: "https://status.example.com"},
		Components: []ComponentEntry{
			{Group: "Eptura Workplace Modules", Description: "The workplace suite", Components: []ComponentDecl{
				{Name: "Space Module"}, {Name: "Move Module"}, {Name: "Reservation Module"},
				{Name: "Service Request Module", Description: "Work orders and requests"},
				{Name: "Asset Module"}, {Name: "Inventory Module"}, {Name: "Mail Module"},
				{Name: "Copy Module"}, {Name: "Visitor Module"}, {Name: "Insights Module"},
			}},
			{Group: "Apps", Components: []ComponentDecl{{Name: "Hummingbird App", DependsOn: []string{"Public API"}}}},
			{Name: "Public API", Description: "REST API for integrations"},
		},
		Sources: []Source{{Name: "prometheus", Kind: "alertmanager", Token: "prom-token-0123456789", RateLimit: 5}},
		Correlation: Correlation{
			GroupBy:          []string{"component_group", "alertname"},
			GroupWait:        Duration(10 * time.Second),
			GroupInterval:    Duration(2 * time.Minute),
			Window:           Duration(time.Hour),
			ResolveAfter:     Duration(20 * time.Minute),
			ResolveTimeout:   Duration(2 * time.Minute),
			MinAlerts:        2,
			InferUpstreamMin: 5,
			Flap:             Flap{Changes: 6, Window: Duration(45 * time.Minute)},
			Publish:          PublishDraft,
		},
		Limits: Limits{IngestBody: 20 << 20, PublicBody: 32768,
			AlertLabels: 32, LabelNameBytes: 128, LabelValueBytes: 4096, SummaryBytes: 32 << 10},
		SMTP: SMTP{MaxConns: 4, Rate: 2.5},
		// full.yml has no delivery block: the defaults.
		Delivery: Default().Delivery,
		Probes: []Probe{
			{Name: "dns-api", Kind: "dns", Component: "Public API", Target: "api.example.com", Record: "A",
				Resolvers: []string{"192.0.2.53:53", "198.51.100.53:53"}, Expect: []string{"203.0.113.10"},
				Interval: Duration(30 * time.Second), Timeout: Duration(5 * time.Second), Failures: 2, Successes: 1, Severity: "critical"},
			{Name: "api-health", Kind: "http", Component: "Public API", Target: "https://api.example.com/healthz",
				ExpectStatus: 200, BodyContains: "ok", TLSExpiryWarning: Duration(14 * 24 * time.Hour)},
			{Name: "smtp", Kind: "tcp", Target: "mail.example.com:587", Severity: "warning"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load(full.yml):\ngot  %+v\nwant %+v", got, want)
	}

	if len(rules) != 2 {
		t.Fatalf("got %d rules, want 2", len(rules))
	}
	if got, want := rules[0].Components, []string{"Space Module"}; !reflect.DeepEqual(got, want) {
		t.Errorf("rules[0].components: got %q, want %q", got, want)
	}
	wantSS := map[gateway.Severity]gateway.ComponentStatus{
		gateway.SeverityCritical: gateway.MajorOutage,
		gateway.SeverityWarning:  gateway.DegradedPerformance, // written as "warn"
	}
	if !reflect.DeepEqual(rules[0].SeverityStatus, wantSS) {
		t.Errorf("rules[0].severity_status: got %v, want %v", rules[0].SeverityStatus, wantSS)
	}
	if got, want := rules[0].Name, "space"; got != want {
		t.Errorf("rules[0].name: got %q, want %q", got, want)
	}
	// The regex ending in $ survived expansion and still works.
	route := gateway.Rule{Matchers: rules[1].Matchers}
	if !route.Matches(map[string]string{"service": "booking", "instance": "db1.example.com", "job": "node"}) {
		t.Errorf("rules[1] does not match an external booking instance")
	}
	if route.Matches(map[string]string{"service": "booking", "instance": "db1.internal", "job": "node"}) {
		t.Errorf("rules[1] matches an .internal instance")
	}
}

func TestComponentDecls(t *testing.T) {
	c := mustLoad(t, "testdata/full.yml", map[string]string{"PROM_TOKEN": "prom-token-0123456789"})
	got := c.ComponentDecls()
	if len(got) != 12 {
		t.Fatalf("got %d components, want 12: %+v", len(got), got)
	}
	tests := []struct {
		i    int
		want DeclaredComponent
	}{
		{0, DeclaredComponent{Group: "Eptura Workplace Modules", Name: "Space Module", Position: 0, Path: "components[0].components[0]"}},
		{3, DeclaredComponent{Group: "Eptura Workplace Modules", Name: "Service Request Module", Description: "Work orders and requests", Position: 3, Path: "components[0].components[3]"}},
		{9, DeclaredComponent{Group: "Eptura Workplace Modules", Name: "Insights Module", Position: 9, Path: "components[0].components[9]"}},
		{10, DeclaredComponent{Group: "Apps", Name: "Hummingbird App", Position: 0, DependsOn: []string{"Public API"}, Path: "components[1].components[0]"}},
		{11, DeclaredComponent{Name: "Public API", Description: "REST API for integrations", Position: 2, Path: "components[2]"}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(got[tt.i], tt.want) {
			t.Errorf("ComponentDecls()[%d]: got %+v, want %+v", tt.i, got[tt.i], tt.want)
		}
	}
}

func TestLoadMinimal(t *testing.T) {
	got := mustLoad(t, "testdata/minimal.yml", nil)
	want := Default()
	want.Page.Name = "Acme"
	want.Components = []ComponentEntry{{Name: "Website"}}
	want.Sources = []Source{{Name: "grafana", Kind: "grafana", Token: "a-token-of-sixteen-chars"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load(minimal.yml):\ngot  %+v\nwant %+v", got, want)
	}
}

func TestLoadDefaults(t *testing.T) {
	tests := []struct {
		name string
		path string
	}{
		{"no file", ""},
		{"empty file", "testdata/empty.yml"},
		{"comments only", writeFile(t, "c.yml", "# nothing yet\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := mustLoad(t, tt.path, nil), Default(); !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("Default().Validate(): %v", err)
	}
}

func TestHeraldConfig(t *testing.T) {
	env := map[string]string{"HERALD_CONFIG": "testdata/minimal.yml"}
	if got, want := mustLoad(t, "", env).Page.Name, "Acme"; got != want {
		t.Errorf("HERALD_CONFIG: page.name: got %q, want %q", got, want)
	}
	// An explicit path wins over HERALD_CONFIG.
	if got, want := mustLoad(t, "testdata/empty.yml", env).Page.Name, "Status"; got != want {
		t.Errorf("explicit path: page.name: got %q, want %q", got, want)
	}
}

func TestEnvOverrides(t *testing.T) {
	base := map[string]string{"PROM_TOKEN": "prom-token-0123456789"}
	tests := []struct {
		name  string
		env   map[string]string
		check func(*Config) (got, want any)
	}{
		{"addr", map[string]string{"HERALD_ADDR": ":7070"}, func(c *Config) (any, any) { return c.Addr, ":7070" }},
		{"empty counts as unset", map[string]string{"HERALD_ADDR": ""}, func(c *Config) (any, any) { return c.Addr, "127.0.0.1:9090" }},
		{"bool", map[string]string{"HERALD_ALLOW_PRIVATE_TARGETS": "0"}, func(c *Config) (any, any) { return c.AllowPrivateTargets, false }},
		{"public url slash", map[string]string{"HERALD_PUBLIC_URL": "http://x.test/status/"}, func(c *Config) (any, any) { return c.PublicURL, "http://x.test/status" }},
		{"secret", map[string]string{"HERALD_ADMIN_TOKEN": "from-env-0123456789abcdef-0123456"}, func(c *Config) (any, any) { return c.AdminToken, "from-env-0123456789abcdef-0123456" }},
		{"default in ${:-}", map[string]string{"ADMIN_TOKEN": "set-in-the-env-0123456789abcdef-01"}, func(c *Config) (any, any) { return c.AdminToken, "set-in-the-env-0123456789abcdef-01" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			got, want := tt.check(mustLoad(t, "testdata/full.yml", env))
			if got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"admin":  "  admin-from-file-0123456789abcdef-01\n",
		"prom":   "prom-token-from-file-0123\n",
		"db":     "postgres://u:p@db/herald\n",
		"empty":  " \n",
		"config": "admin_token_file: admin\nsources:\n  - {name: p, kind: generic, token_file: prom}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfgPath := filepath.Join(dir, "config")

	t.Run("env _FILE", func(t *testing.T) {
		c := mustLoad(t, "", map[string]string{"HERALD_DATABASE_URL_FILE": filepath.Join(dir, "db")})
		if got, want := c.DatabaseURL, "postgres://u:p@db/herald"; got != want {
			t.Errorf("database_url: got %q, want %q", got, want)
		}
		if c.DatabaseURLFile != "" {
			t.Errorf("database_url_file: got %q, want it cleared after reading", c.DatabaseURLFile)
		}
	})
	t.Run("yaml _file relative to the config file", func(t *testing.T) {
		c := mustLoad(t, cfgPath, nil)
		if got, want := c.AdminToken, "admin-from-file-0123456789abcdef-01"; got != want {
			t.Errorf("admin_token: got %q, want %q", got, want)
		}
		if got, want := c.Sources[0].Token, "prom-token-from-file-0123"; got != want {
			t.Errorf("sources[0].token: got %q, want %q", got, want)
		}
	})

	errTests := []struct {
		name  string
		path  string
		env   map[string]string
		wants []string
	}{
		{"env value and _FILE", "", map[string]string{"HERALD_ADMIN_TOKEN": "x", "HERALD_ADMIN_TOKEN_FILE": filepath.Join(dir, "admin")},
			[]string{"HERALD_ADMIN_TOKEN and HERALD_ADMIN_TOKEN_FILE are both set"}},
		{"yaml value and _file", writeFile(t, "c.yml", "secret_key: abc\nsecret_key_file: /run/secrets/key\n"), nil,
			[]string{"c.yml:1: secret_key: set together with secret_key_file"}},
		{"missing file", "", map[string]string{"HERALD_SECRET_KEY_FILE": filepath.Join(dir, "nope")},
			[]string{"HERALD_SECRET_KEY_FILE: secret_key_file: open ", "no such file"}},
		{"empty file", "", map[string]string{"HERALD_SMTP_URL_FILE": filepath.Join(dir, "empty")},
			[]string{"HERALD_SMTP_URL_FILE: smtp_url_file: file ", "is empty"}},
		// The admin key guards everything: 32 characters at least, and the
		// message names the variable wherever the value came from.
		{"short admin token", "", map[string]string{"HERALD_ADMIN_TOKEN": "a"},
			[]string{"HERALD_ADMIN_TOKEN: admin_token: HERALD_ADMIN_TOKEN must be at least 32 characters"}},
		{"31-character admin token", writeFile(t, "short.yml", "admin_token: 0123456789012345678901234567890\n"), nil,
			[]string{"short.yml:1: admin_token: HERALD_ADMIN_TOKEN must be at least 32 characters"}},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.path, envMap(tt.env))
			assertErrorHas(t, err, tt.wants...)
		})
	}
}

func assertErrorHas(tb testing.TB, err error, wants ...string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want one containing %q", wants)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			tb.Errorf("got error:\n%v\nwant it to contain %q", err, w)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		file  string
		env   map[string]string
		wants []string
	}{
		{"bad_unknown_top.yml", nil, []string{`bad_unknown_top.yml:2: unknown key "listen"`}},
		{"bad_unknown_nested.yml", nil, []string{`bad_unknown_nested.yml:4: unknown key "group_wiat" in correlation (did you mean "group_wait"?)`}},
		{"bad_duplicate_key.yml", nil, []string{`bad_duplicate_key.yml:3: duplicate key "addr" (first at line 1)`}},
		{"bad_duration.yml", nil, []string{`bad_duration.yml:3: correlation.group_interval: invalid duration "soon"`}},
		{"bad_kind.yml", nil, []string{`bad_kind.yml:6: sources[1].kind: unknown kind "foo" (want alertmanager, alertmanager-api, grafana, pagerduty or generic)`}},
		{"bad_undefined_var.yml", nil, []string{`bad_undefined_var.yml:4: sources[0].token: environment variable NOT_DEFINED_ANYWHERE is not set`}},
		{"bad_regex.yml", nil, []string{`bad_regex.yml:4: rules[0].match: matcher "service=~sp[ace": invalid regular expression`}},
		{"bad_duplicate_component.yml", nil, []string{`bad_duplicate_component.yml:7: components[1].components[1].name: duplicate component "Space Module" (first at components[0].components[0].name)`}},
		{"bad_token_both.yml", nil, []string{`bad_token_both.yml:4: sources[0].token: set together with token_file; use one`}},
		{"bad_probes.yml", nil, []string{
			`bad_probes.yml:3: probes[0].kind: unknown kind "icmp" (want dns, http or tcp)`,
			`probes[1].target: is required: an http or https URL`,
			`bad_probes.yml:10: probes[2].interval: must be at least 1s (got 500ms)`,
			`probes[3].expect[0]: "2001:db8::1" is not an IPv4 address, which an A record holds`,
			`probes[4].expect[0]: "192.0.2.25" is not a host name, which a MX record holds`,
		}},
		{"bad_probe_source.yml", nil, []string{`bad_probe_source.yml:2: sources[0].name: "probe" is reserved for the alerts of the built-in probes`}},
		{"bad_dependency_cycle.yml", nil, []string{`components: depends_on makes a dependency cycle: DNS → Hummingbird App → Space Module → DNS`}},
		{"full.yml", map[string]string{"PROM_TOKEN": "short"}, []string{`full.yml:41: sources[0].token: must be at least 16 characters`}},
		{"full.yml", map[string]string{"PROM_TOKEN": "prom-token-0123456789", "HERALD_PUBLIC_URL": "ftp://x", "HERALD_ALLOW_PRIVATE_TARGETS": "maybe"}, []string{
			`HERALD_PUBLIC_URL: public_url: must be an absolute http or https URL (got "ftp://x")`,
			`HERALD_ALLOW_PRIVATE_TARGETS: invalid boolean "maybe"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, err := Load(filepath.Join("testdata", tt.file), envMap(tt.env))
			assertErrorHas(t, err, tt.wants...)
			if c != nil {
				t.Errorf("got config %+v with the error, want nil", c)
			}
		})
	}
}

// public_url follows addr when it is not set itself, so links in mail point
// at the port Herald listens on; a configured public_url always wins.
func TestPublicURLFollowsAddr(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "http://localhost:8080"},
		{map[string]string{"HERALD_ADDR": ":9090"}, "http://localhost:9090"},
		{map[string]string{"HERALD_ADDR": "0.0.0.0:9091"}, "http://localhost:9091"},
		{map[string]string{"HERALD_ADDR": "[::]:9092"}, "http://localhost:9092"},
		{map[string]string{"HERALD_ADDR": "127.0.0.1:9093"}, "http://127.0.0.1:9093"},
		{map[string]string{"HERALD_ADDR": ":9094", "HERALD_PUBLIC_URL": "https://status.example.com/"}, "https://status.example.com"},
	} {
		if got := mustLoad(t, "", tt.env).PublicURL; got != tt.want {
			t.Errorf("env %v: public_url = %q, want %q", tt.env, got, tt.want)
		}
	}
}
