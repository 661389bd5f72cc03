package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// The seed outage's eleven components and the label value that routes a
// module's alerts to each.
var seedComponents = []struct{ name, service string }{
	{"Space Module", "space"}, {"Move Module", "move"}, {"Reservation Module", "reservation"},
	{"Service Request Module", "service-request"}, {"Asset Module", "asset"}, {"Inventory Module", "inventory"},
	{"Mail Module", "mail"}, {"Copy Module", "copy"}, {"Visitor Module", "visitor"}, {"Insights Module", "insights"},
	{"Hummingbird App", "hummingbird"},
}

const (
	e2eAdmin      = "hrld_e2e_admin_token_0123456789ab"
	e2eAMToken    = "am-webhook-token-0123456789"
	e2ePromToken  = "prom-api-token-0123456789"
	e2eRuleAlert  = "HeraldE2EAlwaysFiring"
	e2eStormAlert = "ModuleDown"
)

// realTools finds Debian's prometheus and prometheus-alertmanager (which
// ships amtool). Without them the test is skipped, unless
// HERALD_TEST_REQUIRE_E2E=1 (as in CI) makes that a failure.
func realTools(t *testing.T) (prometheus, alertmanager, amtool string) {
	t.Helper()
	look := func(names ...string) string {
		for _, n := range names {
			if p, err := exec.LookPath(n); err == nil {
				return p
			}
		}
		return ""
	}
	// Debian names Alertmanager's binary prometheus-alertmanager.
	prometheus, alertmanager, amtool = look("prometheus"), look("alertmanager", "prometheus-alertmanager"), look("amtool")
	if prometheus == "" || alertmanager == "" || amtool == "" {
		msg := fmt.Sprintf("prometheus %q, alertmanager %q, amtool %q: install Debian's prometheus and prometheus-alertmanager to run this test",
			prometheus, alertmanager, amtool)
		if os.Getenv("HERALD_TEST_REQUIRE_E2E") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return prometheus, alertmanager, amtool
}

// TestRealTools runs the real Prometheus, Alertmanager and amtool against a
// real `herald serve`, on loopback, on both stores:
//   - Alertmanager → Herald webhook: the seed's storm of eleven alerts
//     becomes one incident; resolved, it goes to monitoring, then resolved;
//   - Prometheus → Herald as its Alertmanager (path_prefix): a rule that
//     always fires opens an incident; once the rule is removed Prometheus
//     sends nothing more, and Herald resolves the alert at the endsAt
//     Prometheus gave it;
//   - amtool alert add, pointed at Herald, exits 0 (and amtool config show,
//     which reads the status document, too).
//
// Intervals are a second or two so the whole run takes well under two
// minutes; the waits below are hang guards, not performance bounds.
func TestRealTools(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs Prometheus and Alertmanager")
	}
	prom, am, amtool := realTools(t)
	bin := buildHerald(t)
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			h := startChild(t, bin, map[string]string{
				"HERALD_CONFIG":       writeConfig(t, e2eHeraldConfig()),
				"HERALD_DATABASE_URL": storetest.URL(t, d),
				"HERALD_ADMIN_TOKEN":  e2eAdmin,
				"AM_TOKEN":            e2eAMToken,
				"PROM_TOKEN":          e2ePromToken,
				"HERALD_LOG_LEVEL":    "warn",
			})
			h.waitReady(200, 60*time.Second)
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("herald's log:\n%s", h.logs)
				}
			})
			t.Run("alertmanager webhook", func(t *testing.T) { alertmanagerStorm(t, am, h.instance) })
			t.Run("prometheus as alertmanager", func(t *testing.T) { prometheusRule(t, prom, h.instance) })
			t.Run("amtool", func(t *testing.T) { amtoolAdd(t, amtool, h.instance) })
		})
	}
}

// e2eHeraldConfig declares the seed's components, a rule per module, one
// for the Prometheus rule's alert, and second-scale correlation. Incidents
// group by alertname, so each subtest's alerts make their own incident.
func e2eHeraldConfig() string {
	var b strings.Builder
	b.WriteString(seedPageYAML + `  - name: Reporting
sources:
  - {name: alertmanager, kind: alertmanager, token: "${AM_TOKEN}"}
  - {name: prometheus, kind: alertmanager-api, token: "${PROM_TOKEN}"}
rules:
`)
	for _, c := range seedComponents {
		fmt.Fprintf(&b, "  - {match: {service: %s}, components: [%s], severity_status: {critical: major_outage}}\n", c.service, c.name)
	}
	fmt.Fprintf(&b, "  - {match: {alertname: %s}, components: [Reporting], severity_status: {critical: partial_outage}}\n", e2eRuleAlert)
	b.WriteString(`correlation:
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  resolve_after: 2s
`)
	return b.String()
}

// alertmanagerStorm posts the seed's eleven alerts to a real Alertmanager
// whose webhook receiver is Herald, then resolves them.
func alertmanagerStorm(t *testing.T, bin string, h *instance) {
	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: herald
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: herald
    webhook_configs:
      - url: %s/ingest/alertmanager
        send_resolved: true
        http_config:
          authorization: {credentials: %s}
`, h.url, e2eAMToken)
	cfgFile := filepath.Join(dir, "alertmanager.yml")
	writeFile(t, cfgFile, cfg)
	addr := freeAddr(t)
	amURL := "http://" + addr
	startTool(t, "alertmanager", bin, "--config.file="+cfgFile, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	waitHTTP(t, amURL+"/-/ready")

	post := func(endsAt time.Time) {
		t.Helper()
		var alerts []map[string]any
		for _, c := range seedComponents {
			a := map[string]any{
				"labels":      map[string]string{"alertname": e2eStormAlert, "service": c.service, "severity": "critical"},
				"annotations": map[string]string{"summary": c.name + " does not resolve its nodes' DNS names"},
			}
			if !endsAt.IsZero() {
				a["endsAt"] = endsAt.UTC().Format(time.RFC3339Nano)
			}
			alerts = append(alerts, a)
		}
		body, _ := json.Marshal(alerts)
		res, err := http.Post(amURL+"/api/v2/alerts", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("Alertmanager took the alerts with %d", res.StatusCode)
		}
	}

	post(time.Time{})
	inc := waitIncident(t, h, e2eStormAlert, func(i incidentView) bool { return len(i.Components) == len(seedComponents) },
		"one incident on all eleven components")
	if n := len(incidentsOf(t, h, e2eStormAlert)); n != 1 {
		t.Fatalf("the storm made %d incidents, want 1", n)
	}

	post(time.Now())
	inc = waitIncident(t, h, e2eStormAlert, func(i incidentView) bool { return i.ID == inc.ID && i.Status == "resolved" },
		"the incident to be resolved")
	var statuses []string
	for _, u := range inc.Updates {
		statuses = append(statuses, u.Status)
	}
	if !slices.Contains(statuses, "monitoring") || !slices.Contains(statuses, "resolved") || inc.MonitoringAt == nil {
		t.Errorf("the incident's updates went %v (monitoring at %v), want a monitoring and a resolved update", statuses, inc.MonitoringAt)
	}
	if n := len(incidentsOf(t, h, e2eStormAlert)); n != 1 {
		t.Errorf("%d incidents for the storm after it resolved, want 1", n)
	}
}

// prometheusRule points a real Prometheus at Herald as its Alertmanager,
// with a rule that always fires, then removes the rule.
func prometheusRule(t *testing.T, bin string, h *instance) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yml")
	writeFile(t, rules, fmt.Sprintf(`groups:
  - name: herald-e2e
    interval: 1s
    rules:
      - alert: %s
        expr: vector(1)
        labels: {severity: critical}
        annotations: {summary: Reports are not being generated}
`, e2eRuleAlert))
	cfgFile := filepath.Join(dir, "prometheus.yml")
	writeFile(t, cfgFile, fmt.Sprintf(`global:
  evaluation_interval: 1s
rule_files: [%s]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%s]
      path_prefix: /ingest/prometheus
      api_version: v2
      authorization: {credentials: %s}
`, rules, strings.TrimPrefix(h.url, "http://"), e2ePromToken))
	addr := freeAddr(t)
	p := startTool(t, "prometheus", bin, "--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--rules.alert.resend-delay=1s")
	waitHTTP(t, "http://"+addr+"/-/ready")

	inc := waitIncident(t, h, e2eRuleAlert, func(i incidentView) bool { return i.Status != "resolved" }, "an incident for the rule's alert")

	// The rule is removed: Prometheus sends nothing more about it, so the
	// alert ends at the endsAt of its last notification.
	writeFile(t, rules, "groups: []\n")
	removed := time.Now()
	if err := p.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var last []alertView
	waitFor(t, 45*time.Second, func() bool {
		last = alertsNamed(t, h, e2eRuleAlert)
		return len(last) > 0 && !slices.ContainsFunc(last, func(a alertView) bool { return a.Status != "resolved" })
	}, "Herald to resolve the rule's alert at its endsAt once the rule is gone (removed at %v); the alerts: %+v", removed, &last)
	for _, a := range last {
		if a.EndsAt == nil || !a.EndsAt.After(removed) {
			t.Errorf("the rule's alert ended at %v, want the endsAt of Prometheus's last notification, after the rule was removed (%v)", a.EndsAt, removed)
		}
	}
	waitIncident(t, h, e2eRuleAlert, func(i incidentView) bool { return i.ID == inc.ID && i.Status == "resolved" },
		"the rule's incident to be resolved")
}

// amtoolAdd runs amtool against Herald as against an Alertmanager.
func amtoolAdd(t *testing.T, bin string, h *instance) {
	// amtool puts a URL's user info into HTTP Basic auth, whose password
	// Herald takes as the source token.
	url := strings.Replace(h.url, "http://", "http://amtool:"+e2ePromToken+"@", 1)
	for _, args := range [][]string{
		{"alert", "add", "alertname=AmtoolE2E", "service=dns", "severity=warning", "--annotation=summary=Added with amtool"},
		{"config", "show"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, bin, append([]string{"--alertmanager.url=" + url + "/ingest/prometheus"}, args...)...)
		cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("amtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if len(alertsNamed(t, h, "AmtoolE2E")) != 1 {
		t.Error("amtool's alert was not stored")
	}
}

type incidentView struct {
	ID           string
	Status       string
	MonitoringAt *time.Time `json:"monitoring_at"`
	Components   map[string]string
	Updates      []struct{ Status string }
}

type alertView struct {
	Status     string
	Labels     map[string]string
	EndsAt     *time.Time `json:"ends_at"`
	IncidentID *string    `json:"incident_id"`
}

// listAlerts lists alerts through the admin API.
func listAlerts(t *testing.T, h *instance, query string) []alertView {
	t.Helper()
	code, body := h.get("/api/v1/alerts?"+query, e2eAdmin)
	if code != 200 {
		t.Fatalf("alerts = %d %s", code, body)
	}
	var page struct{ Data []alertView }
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	return page.Data
}

// alertsNamed lists the alerts whose alertname label is name.
func alertsNamed(t *testing.T, h *instance, name string) []alertView {
	t.Helper()
	var out []alertView
	for _, a := range listAlerts(t, h, "") {
		if a.Labels["alertname"] == name {
			out = append(out, a)
		}
	}
	return out
}

// incidentsOf returns the incidents that alerts named name (their
// alertname label) joined, each with its components and updates.
func incidentsOf(t *testing.T, h *instance, name string) []incidentView {
	t.Helper()
	seen := map[string]bool{}
	var out []incidentView
	for _, a := range alertsNamed(t, h, name) {
		if a.IncidentID == nil || seen[*a.IncidentID] {
			continue
		}
		seen[*a.IncidentID] = true
		code, body := h.get("/api/v1/incidents/"+*a.IncidentID, e2eAdmin)
		if code != 200 {
			t.Fatalf("incident %s = %d %s", *a.IncidentID, code, body)
		}
		var inc incidentView
		if err := json.Unmarshal([]byte(body), &inc); err != nil {
			t.Fatal(err)
		}
		out = append(out, inc)
	}
	return out
}

// waitIncident waits for an incident of name's alerts for which cond
// holds, and returns it.
func waitIncident(t *testing.T, h *instance, name string, cond func(incidentView) bool, what string) incidentView {
	t.Helper()
	var found incidentView
	waitFor(t, 45*time.Second, func() bool {
		for _, i := range incidentsOf(t, h, name) {
			if cond(i) {
				found = i
				return true
			}
		}
		return false
	}, "%s", what)
	return found
}

// writeFile writes a test's file.
func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startTool runs a tool until the test ends; its output is logged if the
// test fails.
func startTool(t *testing.T, name, bin string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"HOME=" + cmd.Dir, "PATH=" + os.Getenv("PATH")}
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s's log:\n%s", name, logs)
		}
	})
	return cmd
}

// waitHTTP waits for url to answer 200.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	waitFor(t, 30*time.Second, func() bool {
		res, err := http.Get(url)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	}, "%s to answer 200", url)
}
