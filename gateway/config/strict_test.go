package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestStrictInline(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		wants []string
	}{
		{"unknown key in a rule", "rules:\n  - matchers: [a=b]\n    components: [X]\n",
			[]string{`c.yml:2: unknown key "matchers" in rules[0] (did you mean "match"?)`}},
		{"unknown key in a component", "components:\n  - group: G\n    components:\n      - {nmae: X}\n",
			[]string{`c.yml:4: unknown key "nmae" in components[0].components[0] (did you mean "name"?)`}},
		{"duplicate label in match", "rules:\n  - match: {a: b, a: c}\n    components: [X]\n",
			[]string{`c.yml:2: duplicate key "a" in rules[0].match (first at line 2)`}},
		{"wrong kinds", "smtp: {max_conns: many}\nlimits: [1]\nsources: {name: x}\n", []string{
			`c.yml:1: smtp.max_conns: must be a whole number (got "many")`,
			`c.yml:2: limits: must be a mapping of keys (got a list)`,
			`c.yml:3: sources: must be a list (got a mapping)`,
		}},
		{"bad size", "limits: {ingest_body: lots}\n", []string{`c.yml:1: limits.ingest_body: invalid size "lots"`}},
		{"bad severity", "rules:\n  - components: [X]\n    severity_status:\n      dire: major_outage\n",
			[]string{`c.yml:4: rules[0].severity_status: unknown severity "dire"`}},
		{"bad status", "rules:\n  - components: [X]\n    severity_status: {critical: down}\n",
			[]string{`c.yml:3: rules[0].severity_status.critical: unknown status "down"`}},
		{"bad label in match", "rules:\n  - match:\n      bad-label: x\n    components: [X]\n",
			[]string{`c.yml:3: rules[0].match: invalid label name "bad-label"`}},
		{"group and name", "components:\n  - {group: G, name: N}\n",
			[]string{`c.yml:2: components[0]: has both group and name`}},
		{"all undefined vars", "addr: ${A}\nlog_level: ${B}\n", []string{
			`c.yml:1: addr: environment variable A is not set`,
			`c.yml:2: log_level: environment variable B is not set`,
		}},
		{"syntax", "addr: [\n", []string{"c.yml:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, "c.yml", tt.yaml), envMap(nil))
			assertErrorHas(t, err, tt.wants...)
		})
	}
}

func TestExpansionTypes(t *testing.T) {
	yml := "smtp:\n  max_conns: ${CONNS}\n  rate: ${RATE:-1.5}\n" +
		"correlation: {min_alerts: \"${CONNS}\"}\n" +
		"allow_private_targets: ${PRIVATE}\n" +
		"admin_token: \"${NUM}\"\n" +
		"mail_from: ${FROM:-Ops <ops@example.com>}\n" +
		"page: {name: \"$${NAME}\"}\n"
	c := mustLoad(t, writeFile(t, "c.yml", yml), map[string]string{"CONNS": "3", "PRIVATE": "true", "NUM": "12345678901234567890123456789012"})
	tests := []struct {
		name      string
		got, want any
	}{
		{"int", c.SMTP.MaxConns, 3},
		{"float default", c.SMTP.Rate, 1.5},
		{"quoted int in a flow mapping", c.Correlation.MinAlerts, 3},
		{"bool", c.AllowPrivateTargets, true},
		{"quoted number stays a string", c.AdminToken, "12345678901234567890123456789012"},
		{"default with spaces", c.MailFrom, "Ops <ops@example.com>"},
		{"$$ escape", c.Page.Name, "${NAME}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestMergeKeys(t *testing.T) {
	yml := "sources:\n" +
		"  - &src {name: a, kind: generic, token: a-token-of-sixteen-chars}\n" +
		"  - <<: *src\n" +
		"    name: b\n"
	c := mustLoad(t, writeFile(t, "c.yml", yml), nil)
	want := []Source{
		{Name: "a", Kind: "generic", Token: "a-token-of-sixteen-chars"},
		{Name: "b", Kind: "generic", Token: "a-token-of-sixteen-chars"},
	}
	if !reflect.DeepEqual(c.Sources, want) {
		t.Errorf("sources: got %+v, want %+v", c.Sources, want)
	}
	_, err := Load(writeFile(t, "c.yml", "sources:\n  - &src {name: a, kind: generic, tokn: x}\n  - <<: *src\n    name: b\n"), envMap(nil))
	assertErrorHas(t, err, `c.yml:2: unknown key "tokn" in sources[0]`)
}

func TestExpand(t *testing.T) {
	env := envMap(map[string]string{"X": "x", "EMPTY": ""})
	tests := []struct {
		in, want string
		err      string
	}{
		{in: "plain", want: "plain"},
		{in: "${X}", want: "x"},
		{in: "a${X}b${X}", want: "axbx"},
		{in: "${EMPTY}", want: ""},
		{in: "${EMPTY:-d}", want: "d"},
		{in: "${UNSET:-d f}", want: "d f"},
		{in: "^api$", want: "^api$"},
		{in: "cost $5", want: "cost $5"},
		{in: "$", want: "$"},
		{in: "$$", want: "$"},
		{in: "$${X}", want: "${X}"},
		{in: "${UNSET}", err: "UNSET is not set"},
		{in: "${X", err: "unterminated ${"},
		{in: "${1X}", err: `invalid variable name "1X"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, errs := expand(tt.in, env)
			if tt.err != "" {
				if err := errors.Join(errs...); err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("expand(%q): got error %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if len(errs) > 0 || got != tt.want {
				t.Errorf("expand(%q): got %q, %v; want %q", tt.in, got, errs, tt.want)
			}
		})
	}
}

func TestValidateReportsEverything(t *testing.T) {
	c := Default()
	c.Addr = "nope"
	c.LogLevel = "loud"
	c.Correlation.GroupWait = -1
	c.Correlation.Window = 0
	c.Correlation.MinAlerts = 0
	c.Correlation.InferUpstreamMin = -1
	c.Correlation.GroupBy = []string{"bad-label"}
	c.Limits.PublicBody = 0
	c.SMTPURL = "smtp://user:hunter2@?tls=sometimes"
	c.Sources = []Source{
		{Name: "Prometheus", Kind: "alertmanager", Token: "short"},
		{Name: "ok", Kind: "foo"},
	}
	c.Components = []ComponentEntry{{Group: "G"}, {}}
	c.Rules = []Rule{{}}
	err := c.Validate()
	wants := []string{
		`addr: must be host:port`,
		`log_level: unknown level "loud"`,
		`correlation.group_wait: must not be negative`,
		`correlation.window: must be positive`,
		`correlation.min_alerts: must be at least 1`,
		`correlation.infer_upstream_min: must be at least 1 (0 or absent means 3)`,
		`correlation.group_by[0]: "bad-label" is neither component_group nor a label name`,
		`limits.public_body: must be positive`,
		`smtp_url: needs a host`,
		`smtp_url: unknown tls="sometimes"`,
		`sources[0].name: "Prometheus" must match`,
		`sources[0].token: must be at least 16 characters`,
		`sources[1].kind: unknown kind "foo" (want alertmanager, alertmanager-api, grafana, pagerduty or generic)`,
		`sources[1].token: required`,
		`components[0].components: a group needs at least one component`,
		`components[1]: needs a group or a name`,
		`rules[0].components: required`,
	}
	assertErrorHas(t, err, wants...)
	if got := len(flatten(err)); got != len(wants) {
		t.Errorf("got %d problems, want %d:\n%v", got, len(wants), err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error reveals the SMTP password:\n%v", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Errorf("errors.As(err, *FieldError) = false, want true")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	env := map[string]string{"PROM_TOKEN": "prom-token-0123456789"}
	first := mustLoad(t, "testdata/full.yml", env)
	out, err := yaml.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	second := mustLoad(t, writeFile(t, "again.yml", string(out)), nil)
	again, err := yaml.Marshal(second)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(out) {
		t.Errorf("marshal, load, marshal differs:\ngot\n%s\nwant\n%s", again, out)
	}
	for i := range first.Rules {
		got, want := matcherStrings(second.Rules[i].Matchers), matcherStrings(first.Rules[i].Matchers)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("rules[%d] matchers after round trip: got %q, want %q", i, got, want)
		}
	}
	for _, want := range []string{"group_wait: 10s", "ingest_body: 20MiB", "- Space Module\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("marshaled config lacks %q:\n%s", want, out)
		}
	}
}

func TestStrictOutsideLoad(t *testing.T) {
	var r Rule
	err := yaml.Unmarshal([]byte("match: [a=b]\ncomponents: [X]\nsevrity_status: {}\n"), &r)
	assertErrorHas(t, err, `line 3: unknown key "sevrity_status"`)
}
