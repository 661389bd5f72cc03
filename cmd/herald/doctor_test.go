package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/internal/mailsink"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestDoctorSaysWhichStepFails runs `herald doctor` against real parts
// that each fail in one way, and checks the report names that step (and
// only that one fails), and that a healthy setup fails nothing.
func TestDoctorSaysWhichStepFails(t *testing.T) {
	// Offers AUTH PLAIN over plain text; the doctor's TLS step is checked
	// against it by asking for implicit TLS, which it does not speak.
	sink := mailsink.Start(t, mailsink.Options{User: "user", Pass: "secret"}).Addr()
	migrated := storetest.SQLiteURL(t)
	openMigrated(t, migrated)
	unmigrated := storetest.SQLiteURL(t)
	openUnmigrated(t, unmigrated)
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	badTemplates := t.TempDir()
	if err := os.MkdirAll(filepath.Join(badTemplates, "email"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(badTemplates, "email", "incident.created.subject.tmpl"), []byte("{{ .Incident.Name "), 0o600); err != nil {
		t.Fatal(err)
	}
	healthy := map[string]string{"HERALD_DATABASE_URL": migrated, "HERALD_PUBLIC_URL": "https://status.example.com",
		"HERALD_SMTP_URL": "smtp://user:secret@" + sink + "?tls=none"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for k, v := range healthy {
			m[k] = v
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name string
		vars map[string]string
		// fails is the check that must fail (none for a healthy setup);
		// want is a regular expression the report must match.
		fails, want string
	}{
		{"healthy", healthy, "", `(?m)^OK    smtp auth   authenticated as user$`},
		{"dns", with("HERALD_SMTP_URL", "smtp://mail.herald-doctor.invalid:25?tls=none"), "smtp dns", `(?m)^SKIP  smtp tcp`},
		{"tcp", with("HERALD_SMTP_URL", "smtp://"+closedPort(t)+"?tls=none"), "smtp tcp", `connection refused`},
		{"tls", with("HERALD_SMTP_URL", "smtps://user:secret@"+sink), "smtp tls", `implicit TLS handshake.*port 465`},
		{"auth", with("HERALD_SMTP_URL", "smtp://user:wrong@"+sink+"?tls=none"), "smtp auth", `535`},
		{"starttls required", with("HERALD_SMTP_URL", "smtp://"+sink+"?tls=starttls"), "smtp tls", `does not offer STARTTLS`},
		{"database", with("HERALD_DATABASE_URL", "postgres://postgres@"+closedPort(t)+"/test?sslmode=disable"), "database", `(?m)^SKIP  migrations`},
		{"migrations pending", with("HERALD_DATABASE_URL", unmigrated), "", `(?m)^WARN  migrations  \d+ of \d+ pending: 00001_schema.sql`},
		{"templates", with("HERALD_TEMPLATES_DIR", badTemplates), "templates", `incident.created`},
		{"outbox", map[string]string{"HERALD_DATABASE_URL": migrated, "HERALD_PUBLIC_URL": "https://status.example.com",
			"HERALD_OUTBOX_DIR": notADir}, "outbox", `not a directory`},
		{"config", with("HERALD_PUBLIC_URL", "ftp://status.example.com"), "config", `(?m)^SKIP  database`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, tc.vars, "doctor", "--timeout", "3s")
			failing := regexp.MustCompile(`(?m)^FAIL  (\S+( \S+)?)  `).FindAllStringSubmatch(out, -1)
			var names []string
			for _, f := range failing {
				names = append(names, strings.TrimSpace(f[1]))
			}
			switch {
			case tc.fails == "" && (err != nil || len(names) > 0):
				t.Errorf("doctor = %v, failing %v; want nothing failing\n%s", err, names, out)
			case tc.fails != "" && (err == nil || len(names) != 1 || names[0] != tc.fails):
				t.Errorf("doctor = %v, failing %v; want only %q failing\n%s", err, names, tc.fails, out)
			}
			if !regexp.MustCompile(tc.want).MatchString(out) {
				t.Errorf("report does not match %s:\n%s", tc.want, out)
			}
			if strings.Contains(out, "secret@") || strings.Contains(out, ":wrong") {
				t.Errorf("the report shows the SMTP password:\n%s", out)
			}
		})
	}
}

// TestDoctorJSON checks the --json report carries the same checks.
func TestDoctorJSON(t *testing.T) {
	vars := map[string]string{"HERALD_DATABASE_URL": storetest.SQLiteURL(t), "HERALD_OUTBOX_DIR": t.TempDir(),
		"HERALD_SMTP_URL": "smtp://" + closedPort(t) + "?tls=none"}
	openMigrated(t, vars["HERALD_DATABASE_URL"])
	out, err := run(t, vars, "doctor", "--json")
	if err == nil {
		t.Error("doctor --json with an unreachable SMTP server succeeded")
	}
	var rep struct {
		OK     bool
		Checks []check
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json printed %q: %v", out, err)
	}
	status := map[string]string{}
	for _, c := range rep.Checks {
		status[c.Name] = c.Status
	}
	want := map[string]string{"config": "ok", "database": "ok", "migrations": "ok", "templates": "ok",
		"smtp dns": "ok", "smtp tcp": "fail", "smtp tls": "skip", "smtp auth": "skip", "public_url": "warn"}
	for name, s := range want {
		if status[name] != s {
			t.Errorf("check %q = %q, want %q (report %+v)", name, status[name], s, rep)
		}
	}
	if rep.OK {
		t.Error(`"ok" is true with a failing check`)
	}
}

// openUnmigrated creates the SQLite file of url without migrating it.
func openUnmigrated(t *testing.T, url string) {
	t.Helper()
	path := strings.TrimPrefix(url, "sqlite:")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
}
