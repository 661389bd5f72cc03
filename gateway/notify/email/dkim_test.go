package email_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify/email"
)

// verify checks data's DKIM signature against the public key pub,
// published (for the verifier) at sel._domainkey.example.com.
func verify(t *testing.T, data []byte, record string) *dkim.Verification {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(data), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != "sel._domainkey.status.example.com" {
				t.Errorf("verifier looked up %s", domain)
			}
			return []string{record}, nil
		},
	})
	if err != nil || len(vs) != 1 {
		t.Fatalf("Verify = %v, %v; want one verification", vs, err)
	}
	if vs[0].Err != nil {
		t.Fatalf("signature does not verify: %v", vs[0].Err)
	}
	return vs[0]
}

// TestDKIM: a signed message, as the SMTP sink receives it, verifies, and
// the signature covers From, Subject and the unsubscribe headers.
func TestDKIM(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder(t, &email.DKIM{Domain: "status.example.com", Selector: "sel", Signer: priv})
	s := startSink(t, sinkOptions{})
	n, err := email.NewSMTP(b, email.SMTPOptions{URL: "smtp://" + s.addr + "?tls=none"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	m := message(t, gateway.EventIncidentCreated, 31)
	if _, _, err := n.Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := s.messages()
	if len(got) != 1 {
		t.Fatalf("sink got %d messages", len(got))
	}
	v := verify(t, got[0].Data, "v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(pub))
	for _, k := range []string{"from", "subject", "list-unsubscribe", "list-unsubscribe-post", "list-id", "message-id", "references"} {
		if !slices.ContainsFunc(v.HeaderKeys, func(h string) bool { return strings.EqualFold(h, k) }) {
			t.Errorf("signature covers %v, not %s", v.HeaderKeys, k)
		}
	}
	if v.Domain != "status.example.com" {
		t.Errorf("d=%s", v.Domain)
	}
	checkHeaders(t, parse(t, got[0].Data), m)

	// Tampering with the unsubscribe link breaks the signature.
	tampered := bytes.Replace(got[0].Data, []byte("unsubscribe/tok-ann"), []byte("unsubscribe/tok-eve"), 1)
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(tampered), &dkim.VerifyOptions{
		LookupTXT: func(string) ([]string, error) {
			return []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}, nil
		},
	})
	if err != nil || len(vs) != 1 || vs[0].Err == nil {
		t.Errorf("a changed List-Unsubscribe still verifies")
	}
}

func TestParseDKIMKey(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	for name, p := range map[string][]byte{"pkcs1 rsa": pkcs1, "pkcs8 ed25519": pkcs8} {
		key, err := email.ParseDKIMKey(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		b := newBuilder(t, &email.DKIM{Domain: "status.example.com", Selector: "sel", Signer: key})
		env, err := b.Build(message(t, gateway.EventTest, 1))
		if err != nil {
			t.Fatal(err)
		}
		pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		k := "rsa"
		if _, ok := key.(ed25519.PrivateKey); ok {
			k, pubDER = "ed25519", key.Public().(ed25519.PublicKey)
		}
		verify(t, env.Data, "v=DKIM1; k="+k+"; p="+base64.StdEncoding.EncodeToString(pubDER))
	}
	for _, bad := range [][]byte{nil, []byte("not pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})} {
		if _, err := email.ParseDKIMKey(bad); err == nil {
			t.Errorf("ParseDKIMKey(%q) succeeded", bad)
		}
	}
}
