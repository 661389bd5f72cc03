package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func TestAPIKeyVerbs(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			vars := map[string]string{"HERALD_DATABASE_URL": storetest.URL(t, d)}
			out, err := run(t, vars, "apikey", "create", "--name", "ci", "--role", "support", "--expires", "720h")
			secret := strings.TrimSpace(out)
			if err != nil || !strings.HasPrefix(secret, "hrld_") {
				t.Fatalf("apikey create = %q, %v", out, err)
			}
			if _, err := run(t, vars, "apikey", "create", "--name", "x", "--role", "viewer", "--expires", "soon"); err == nil || !strings.Contains(err.Error(), "--expires") {
				t.Errorf("a bad --expires = %v", err)
			}
			st := openMigrated(t, vars["HERALD_DATABASE_URL"])
			k, err := st.APIKeyBySecret(t.Context(), secret)
			if err != nil || k.ExpiresAt.IsZero() {
				t.Fatalf("the created key = %+v, %v; want one with an expiry", k, err)
			}

			out, err = run(t, vars, "apikey", "list")
			if err != nil || !regexp.MustCompile(`(?m)^`+k.ID+`\s+ci\s+support\s+`+secret[5:9]+`\s+live\s`).MatchString(out) {
				t.Errorf("apikey list = %q, %v; want ci live with its 4-character prefix", out, err)
			}
			if strings.Contains(out, secret[:9]) {
				t.Errorf("apikey list shows more of the key than 4 characters:\n%s", out)
			}

			out, err = run(t, vars, "apikey", "revoke", k.ID)
			if err != nil || !strings.Contains(out, "revoked") {
				t.Fatalf("apikey revoke = %q, %v", out, err)
			}
			if _, err := st.APIKeyBySecret(t.Context(), secret); err == nil {
				t.Error("the revoked key still works")
			}
			if out, _ := run(t, vars, "apikey", "list"); !regexp.MustCompile(`\srevoked\s`).MatchString(out) {
				t.Errorf("apikey list after the revoke = %q", out)
			}
			if _, err := run(t, vars, "apikey", "revoke", k.ID); err == nil || !strings.Contains(err.Error(), k.ID) {
				t.Errorf("revoking twice = %v, want an error naming the id", err)
			}
		})
	}
}

// Changing HERALD_ADMIN_TOKEN rotates the bootstrap key: the new one
// works, the old one is revoked, and start-up goes on.
func TestAdminTokenRotates(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			const old, fresh = "old-admin-token-0123456789abcdef-0", "new-admin-token-0123456789abcdef-0"
			url := storetest.URL(t, d)
			in := start(t, map[string]string{"HERALD_DATABASE_URL": url, "HERALD_ADMIN_TOKEN": old})
			in.waitReady(200, 30*time.Second)
			if code, body := in.get("/api/v1/apikeys", old); code != 200 {
				t.Fatalf("the first token: %d %s", code, body)
			}
			if err := in.stop(); err != nil {
				t.Fatal(err)
			}
			in = start(t, map[string]string{"HERALD_DATABASE_URL": url, "HERALD_ADMIN_TOKEN": fresh})
			in.waitReady(200, 30*time.Second)
			if code, body := in.get("/api/v1/apikeys", fresh); code != 200 || !strings.Contains(body, `"revoked_at"`) {
				t.Errorf("the new token: %d %s; want the list with the old key revoked", code, body)
			}
			if code, _ := in.get("/api/v1/apikeys", old); code != 401 {
				t.Errorf("the old token after the change: %d, want 401", code)
			}
			if !strings.Contains(in.logs.String(), "HERALD_ADMIN_TOKEN changed") {
				t.Errorf("the rotation is not logged:\n%s", in.logs)
			}
			if strings.Contains(in.logs.String(), old) || strings.Contains(in.logs.String(), fresh) {
				t.Errorf("a token is in the log:\n%s", in.logs)
			}
		})
	}
}

func TestShortAdminTokenStopsStartup(t *testing.T) {
	var out bytes.Buffer
	a := &app{stdout: &out, stderr: &out, env: envFrom(map[string]string{"HERALD_ADDR": "127.0.0.1:0",
		"HERALD_DATABASE_URL": storetest.SQLiteURL(t), "HERALD_ADMIN_TOKEN": "a"})}
	cmd := a.command()
	cmd.SetArgs([]string{"serve"})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "HERALD_ADMIN_TOKEN must be at least 32 characters") {
		t.Errorf("serve with HERALD_ADMIN_TOKEN=a = %v, want an error naming the variable", err)
	}
}
