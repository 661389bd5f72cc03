package config

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// dkimKeys writes DKIM key files as openssl writes them into a fresh
// directory and returns it: rsa-pkcs1.pem (openssl genrsa -traditional),
// rsa-pkcs8.pem (openssl genpkey -algorithm RSA), ed25519.pem (openssl
// genpkey -algorithm ed25519), and files that are not usable keys.
func dkimKeys(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	pub, err := x509.MarshalPKIXPublicKey(edKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]*pem.Block{
		"rsa-pkcs1.pem": {Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)},
		"rsa-pkcs8.pem": {Type: "PRIVATE KEY", Bytes: pkcs8(rsaKey)},
		"ed25519.pem":   {Type: "PRIVATE KEY", Bytes: pkcs8(edKey)},
		"ecdsa.pem":     {Type: "PRIVATE KEY", Bytes: pkcs8(ecKey)},
		"public.pem":    {Type: "PUBLIC KEY", Bytes: pub},
		"cert.pem":      {Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}},
		"broken.pem":    {Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}},
		"encrypted.pem": {Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}},
		"not-a-key.pem": nil,
	} {
		data := []byte("not a key\n")
		if block != nil {
			data = pem.EncodeToMemory(block)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Unreadable even by root (tests run as root in CI): a directory.
	if err := os.Mkdir(filepath.Join(dir, "unreadable.pem"), 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDKIMKeys(t *testing.T) {
	dir := dkimKeys(t)
	for _, tc := range []struct{ file, typ string }{
		{"rsa-pkcs1.pem", "*rsa.PrivateKey"}, {"rsa-pkcs8.pem", "*rsa.PrivateKey"}, {"ed25519.pem", "ed25519.PrivateKey"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			// From the file, the key's path relative to it.
			cfg := filepath.Join(dir, "herald.yml")
			if err := os.WriteFile(cfg, []byte("dkim:\n  domain: example.com\n  selector: herald2026\n  private_key_file: "+tc.file+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			c := mustLoad(t, cfg, nil)
			if d := c.DKIM; d.Domain != "example.com" || d.Selector != "herald2026" || d.PrivateKeyFile != filepath.Join(dir, tc.file) ||
				typeName(d.Signer) != tc.typ || !d.Enabled() {
				t.Errorf("dkim = %+v (%s), want example.com, herald2026, %s, a %s", d, typeName(d.Signer), tc.file, tc.typ)
			}
			// From the environment.
			c = mustLoad(t, "", map[string]string{"HERALD_DKIM_DOMAIN": "mail.example.org", "HERALD_DKIM_SELECTOR": "s1",
				"HERALD_DKIM_PRIVATE_KEY_FILE": filepath.Join(dir, tc.file)})
			if d := c.DKIM; d.Domain != "mail.example.org" || d.Selector != "s1" || typeName(d.Signer) != tc.typ {
				t.Errorf("dkim from the environment = %+v", d)
			}
		})
	}
	if c := mustLoad(t, "", nil); c.DKIM.Enabled() || c.DKIM.Signer != nil {
		t.Errorf("dkim is on by default: %+v", c.DKIM)
	}
}

// TestDKIMErrors: each mistake is reported naming the key, and where it
// was set (the file and line, or the environment variable).
func TestDKIMErrors(t *testing.T) {
	dir := dkimKeys(t)
	key := func(name string) string { return filepath.Join(dir, name) }
	yml := func(body string) string { return writeFile(t, "herald.yml", "page: {name: Acme}\ndkim:\n"+body) }
	for _, tc := range []struct {
		name  string
		path  string
		env   map[string]string
		wants []string
	}{
		{"domain without selector", yml("  domain: example.com\n  private_key_file: " + key("ed25519.pem") + "\n"), nil,
			[]string{"herald.yml:2: dkim.selector: required when dkim is configured", "<selector>._domainkey.example.com"}},
		{"selector without domain", "", map[string]string{"HERALD_DKIM_SELECTOR": "s1", "HERALD_DKIM_PRIVATE_KEY_FILE": key("ed25519.pem")},
			[]string{"dkim.domain: required when dkim is configured"}},
		{"no key file", yml("  domain: example.com\n  selector: s1\n"), nil,
			[]string{"herald.yml:2: dkim.private_key_file: required when dkim is configured"}},
		{"bad domain", yml("  domain: exa mple.com\n  selector: s_1\n  private_key_file: " + key("ed25519.pem") + "\n"), nil,
			[]string{`herald.yml:3: dkim.domain: "exa mple.com" is not a domain name`, `herald.yml:4: dkim.selector: "s_1" is not a DNS label`}},
		{"missing file", yml("  domain: example.com\n  selector: s1\n  private_key_file: nowhere.pem\n"), nil,
			[]string{"herald.yml:5: dkim.private_key_file: open ", "nowhere.pem: no such file"}},
		{"unreadable file", "", map[string]string{"HERALD_DKIM_DOMAIN": "example.com", "HERALD_DKIM_SELECTOR": "s1",
			"HERALD_DKIM_PRIVATE_KEY_FILE": key("unreadable.pem")},
			[]string{"HERALD_DKIM_PRIVATE_KEY_FILE: dkim.private_key_file: read " + key("unreadable.pem") + ": is a directory"}},
		{"not pem", yml("  domain: example.com\n  selector: s1\n  private_key_file: " + key("not-a-key.pem") + "\n"), nil,
			[]string{"dkim.private_key_file: " + key("not-a-key.pem") + " holds no PEM block"}},
		{"ecdsa", yml("  domain: example.com\n  selector: s1\n  private_key_file: " + key("ecdsa.pem") + "\n"), nil,
			[]string{key("ecdsa.pem") + " holds an ECDSA key: DKIM signs with RSA or Ed25519 only"}},
		{"public key", yml("  domain: example.com\n  selector: s1\n  private_key_file: " + key("public.pem") + "\n"), nil,
			[]string{"holds a public key"}},
		{"certificate", yml("  domain: example.com\n  selector: s1\n  private_key_file: " + key("cert.pem") + "\n"), nil,
			[]string{`holds a PEM block of type "CERTIFICATE"`}},
		{"broken", yml("  domain: example.com\n  selector: s1\n  private_key_file: " + key("broken.pem") + "\n"), nil,
			[]string{`holds a broken "PRIVATE KEY" block`}},
		{"encrypted", yml("  domain: example.com\n  selector: s1\n  private_key_file: " + key("encrypted.pem") + "\n"), nil,
			[]string{"holds an encrypted private key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(tc.path, envMap(tc.env))
			assertErrorHas(t, err, tc.wants...)
			if c != nil {
				t.Errorf("got config %+v with the error, want nil", c)
			}
		})
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }
