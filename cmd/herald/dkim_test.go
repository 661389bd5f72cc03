package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/internal/mailsink"
)

// dkimKey is a key as an operator makes it with openssl: the PEM file
// Herald reads, and the TXT record the operator publishes, built here
// from the public key independently of Herald's code.
type dkimKey struct {
	file, record string
}

func newDKIMKey(t *testing.T, kind string) dkimKey {
	t.Helper()
	var block *pem.Block
	var p []byte
	switch kind {
	case "rsa": // openssl genrsa -traditional 2048: PKCS#1
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
		if p, err = x509.MarshalPKIXPublicKey(&k.PublicKey); err != nil {
			t.Fatal(err)
		}
	case "ed25519": // openssl genpkey -algorithm ed25519: PKCS#8
		pub, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		block, p = &pem.Block{Type: "PRIVATE KEY", Bytes: der}, pub
	}
	file := filepath.Join(t.TempDir(), kind+".pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return dkimKey{file: file, record: "v=DKIM1; k=" + kind + "; p=" + base64.StdEncoding.EncodeToString(p)}
}

// verifyDKIM verifies data's one signature as a receiver would, with the
// DNS answering record at sel._domainkey.status.example.com.
func verifyDKIM(data []byte, record string) (*dkim.Verification, error) {
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(data), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			if name != "herald2026._domainkey.status.example.com" {
				return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
			}
			return []string{record}, nil
		},
	})
	if err != nil {
		return nil, err
	}
	if len(vs) != 1 {
		return nil, fmt.Errorf("%d signatures, want one", len(vs))
	}
	return vs[0], vs[0].Err
}

// TestDKIMSignsEveryMessage runs herald serve with dkim configured through
// its environment variables, sends an incident's mail through the real
// dispatcher and SMTP client to an SMTP server, and verifies what arrived
// as a receiver would, for an RSA and an Ed25519 key; then it shows that a
// second From or a changed Subject breaks the signature.
func TestDKIMSignsEveryMessage(t *testing.T) {
	const admin = "hrld_dkim_admin_token_0123456789"
	for _, d := range storetest.Databases() {
		for _, kind := range []string{"rsa", "ed25519"} {
			t.Run(d+"/"+kind, func(t *testing.T) {
				key := newDKIMKey(t, kind)
				sink := mailsink.Start(t, mailsink.Options{})
				in := start(t, map[string]string{
					"HERALD_DATABASE_URL": storetest.URL(t, d), "HERALD_SMTP_URL": sink.URL(), "HERALD_ADMIN_TOKEN": admin,
					"HERALD_PUBLIC_URL": "https://status.example.com", "HERALD_MAIL_FROM": "Status <status@status.example.com>",
					"HERALD_DKIM_DOMAIN": "status.example.com", "HERALD_DKIM_SELECTOR": "herald2026",
					"HERALD_DKIM_PRIVATE_KEY_FILE": key.file, "HERALD_LOG_LEVEL": "warn",
				})
				in.waitReady(200, 90*time.Second) // a hang guard: migrating PostgreSQL on a busy machine is slow
				for _, c := range []struct{ path, body string }{
					{"/api/v1/components", `{"name":"Space Module"}`},
					{"/api/v1/subscribers", `{"email":"ann@example.org","confirmed":true,"consent_source":"signed up at the front desk"}`},
					{"/api/v1/incidents", `{"name":"Site access","status":"investigating","body":"We are looking into it.",
						"components":{"Space Module":"major_outage"},"notify":true}`},
				} {
					if code, body := in.postAPI(c.path, admin, c.body); code != 201 {
						t.Fatalf("POST %s = %d %s", c.path, code, body)
					}
				}
				msg := sink.Next(t)
				v, err := verifyDKIM(msg.Data, key.record)
				if err != nil {
					t.Fatalf("the message does not verify: %v\n%s", err, msg.Data)
				}
				if v.Domain != "status.example.com" {
					t.Errorf("d=%s", v.Domain)
				}
				count := map[string]int{}
				for _, h := range v.HeaderKeys {
					count[strings.ToLower(h)]++
				}
				for _, h := range []string{"from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post"} {
					if count[h] != 2 {
						t.Errorf("h= names %s %d times, want 2 (oversigned): %v", h, count[h], v.HeaderKeys)
					}
				}

				for what, tampered := range map[string][]byte{
					"a second From": append([]byte("From: IT Support <it@evil.example>\r\n"), msg.Data...),
					"a changed Subject": regexp.MustCompile(`(?m)^Subject: .*(\r\n[ \t].*)*`).
						ReplaceAll(msg.Data, []byte("Subject: [Status] Reset your password now")),
				} {
					if bytes.Equal(tampered, msg.Data) {
						t.Fatalf("%s: the test changed nothing", what)
					}
					if _, err := verifyDKIM(tampered, key.record); err == nil {
						t.Errorf("the message with %s still verifies", what)
					}
				}
			})
		}
	}
}

// TestDoctorChecksTheDKIMRecord runs herald doctor's DKIM check against a
// DNS that answers the test's records: the matching record passes; a
// missing one, another key's and a revoked one fail with the record to
// publish in the hint; a From outside the signing domain warns.
func TestDoctorChecksTheDKIMRecord(t *testing.T) {
	key, other := newDKIMKey(t, "ed25519"), newDKIMKey(t, "rsa")
	notFound := func(context.Context, string) ([]string, error) {
		return nil, &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}
	}
	answer := func(record string) func(context.Context, string) ([]string, error) {
		return func(_ context.Context, name string) ([]string, error) {
			if name != "herald2026._domainkey.status.example.com" {
				return notFound(context.Background(), name)
			}
			return []string{record}, nil
		}
	}
	base := map[string]string{"HERALD_DATABASE_URL": storetest.SQLiteURL(t), "HERALD_OUTBOX_DIR": t.TempDir(),
		"HERALD_MAIL_FROM": "Status <status@status.example.com>", "HERALD_DKIM_DOMAIN": "status.example.com",
		"HERALD_DKIM_SELECTOR": "herald2026", "HERALD_DKIM_PRIVATE_KEY_FILE": key.file}
	for _, tc := range []struct {
		name   string
		vars   map[string]string
		lookup func(context.Context, string) ([]string, error)
		want   string // a regular expression the dkim line matches
	}{
		{"matching", nil, answer(key.record), `^OK    dkim .*holds the public half of the Ed25519 key in ` + regexp.QuoteMeta(key.file) + `$`},
		{"missing", nil, notFound, `^FAIL  dkim .*no TXT record at herald2026\._domainkey\.status\.example\.com.*hint: publish a TXT record at herald2026\._domainkey\.status\.example\.com: ` +
			regexp.QuoteMeta(key.record) + `\)$`},
		{"another key", nil, answer(other.record), `^FAIL  dkim .*does not verify mail signed with .*hint: replace it: publish .*` + regexp.QuoteMeta(key.record)},
		{"revoked", nil, answer("v=DKIM1; k=ed25519; p="), `^FAIL  dkim .*revoked`},
		{"unaligned", map[string]string{"HERALD_MAIL_FROM": "Status <status@example.net>"}, answer(key.record),
			`^WARN  dkim .*mail_from's domain example\.net is not under dkim\.domain status\.example\.com`},
		{"off", map[string]string{"HERALD_DKIM_DOMAIN": "", "HERALD_DKIM_SELECTOR": "", "HERALD_DKIM_PRIVATE_KEY_FILE": ""}, notFound,
			`^SKIP  dkim .*not configured`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := maps.Clone(base)
			maps.Copy(vars, tc.vars)
			var out bytes.Buffer
			a := &app{stdout: &out, stderr: &out, env: envFrom(vars), lookupTXT: tc.lookup}
			cmd := a.command()
			cmd.SetArgs([]string{"doctor", "--timeout", "3s"})
			_ = cmd.Execute()
			var line string
			for l := range strings.SplitSeq(out.String(), "\n") {
				if strings.HasPrefix(l[min(len(l), 6):], "dkim ") {
					line = l
				}
			}
			if !regexp.MustCompile(tc.want).MatchString(line) {
				t.Errorf("dkim line %q does not match %s\n%s", line, tc.want, out.String())
			}
		})
	}
}
