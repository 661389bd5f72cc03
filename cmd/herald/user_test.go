package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway/console"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// runWithStdin runs the herald command line in-process with stdin.
func runWithStdin(t *testing.T, vars map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	a := &app{stdout: &out, stderr: io.Discard, env: envFrom(vars)}
	cmd := a.command()
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestUserVerbs(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			vars := map[string]string{"HERALD_DATABASE_URL": storetest.URL(t, d)}
			ctx := context.Background()

			out, err := run(t, vars, "user", "create", "--email", "Ann@Example.com", "--name", "Ann Example", "--role", "support")
			if err != nil {
				t.Fatal(err)
			}
			generated := strings.TrimSpace(out)
			if len(generated) < console.MinPasswordLength || strings.ContainsAny(generated, " \n") {
				t.Fatalf("create printed %q, want one generated password", out)
			}
			st := openMigrated(t, vars["HERALD_DATABASE_URL"])
			u, err := st.UserByEmail(ctx, "ann@example.com")
			if err != nil || u.Name != "Ann Example" || !console.VerifyPassword(generated, u.PasswordHash) {
				t.Fatalf("stored %+v, %v; want the printed password's hash", u, err)
			}
			if strings.Contains(u.PasswordHash, generated) {
				t.Error("the password is stored in clear")
			}

			for _, tc := range []struct {
				name, stdin, want string
				args              []string
			}{
				{"taken email", "", "already exists", []string{"user", "create", "--email", "ann@example.com", "--name", "A", "--role", "viewer"}},
				{"bad role", "", "admin, support or viewer", []string{"user", "create", "--email", "b@example.com", "--name", "B", "--role", "owner"}},
				{"short stdin password", "short\n", "at least 12", []string{"user", "create", "--email", "b@example.com", "--name", "B", "--role", "viewer", "--password-stdin"}},
				{"unknown user", "", "not found", []string{"user", "disable", "nobody@example.com"}},
			} {
				if _, err := runWithStdin(t, vars, tc.stdin, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
				}
			}

			out, err = runWithStdin(t, vars, "a chosen passphrase\n", "user", "create", "--email", "bob@example.com", "--name", "Bob", "--role", "viewer", "--password-stdin")
			if err != nil || strings.Contains(out, "a chosen passphrase") {
				t.Fatalf("create --password-stdin = %q, %v", out, err)
			}
			if b, err := st.UserByEmail(ctx, "bob@example.com"); err != nil {
				t.Fatal(err)
			} else if b == nil || !console.VerifyPassword("a chosen passphrase", b.PasswordHash) {
				t.Error("--password-stdin did not set the password")
			}

			out, err = run(t, vars, "user", "password", "ann@example.com")
			if err != nil || strings.TrimSpace(out) == generated {
				t.Fatalf("password = %q, %v", out, err)
			}
			if u, err := st.UserByEmail(ctx, "ann@example.com"); err != nil {
				t.Fatal(err)
			} else if !console.VerifyPassword(strings.TrimSpace(out), u.PasswordHash) {
				t.Error("the reset password does not verify")
			}

			if _, err := run(t, vars, "user", "disable", "bob@example.com"); err != nil {
				t.Fatal(err)
			}
			out, err = run(t, vars, "user", "list")
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 3 || !strings.Contains(lines[1], "ann@example.com") || !strings.Contains(lines[1], "active") ||
				!strings.Contains(lines[2], "bob@example.com") || !strings.Contains(lines[2], "disabled") {
				t.Errorf("list =\n%s", out)
			}
			entries, err := st.AuditLog(ctx, store.AuditQuery{}, 10)
			if err != nil || len(entries) != 4 || entries[0].Action != "user.disable" || entries[0].Actor != "cli" {
				t.Errorf("audit log = %+v, %v; want create, create, password, disable by cli", entries, err)
			}
		})
	}
}

// The console is mounted in a running herald: an account the CLI created
// signs in through the form and reaches the dashboard.
func TestServedConsoleSignsIn(t *testing.T) {
	vars := map[string]string{"HERALD_DATABASE_URL": storetest.SQLiteURL(t)}
	out, err := run(t, vars, "user", "create", "--email", "ann@example.com", "--name", "Ann Example", "--role", "support")
	if err != nil {
		t.Fatal(err)
	}
	in := start(t, vars)
	in.waitReady(http.StatusOK, 30*time.Second)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	res, err := client.Get(in.url + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	token := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(string(page))
	if res.StatusCode != http.StatusOK || token == nil {
		t.Fatalf("GET /console/login = %d without a CSRF token:\n%s", res.StatusCode, page)
	}
	res, err = client.PostForm(in.url+"/console/login", url.Values{"_csrf": {token[1]},
		"email": {"ann@example.com"}, "password": {strings.TrimSpace(out)}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/console" || !strings.Contains(string(page), "Ann Example") {
		t.Errorf("sign-in ended at %d %s:\n%s", res.StatusCode, res.Request.URL, page)
	}
}
