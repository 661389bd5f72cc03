package email_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"net"
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

	// What a forwarder or an attacker could change or add breaks the
	// signature, added copies included: each signed field is oversigned.
	data := got[0].Data
	for what, tampered := range map[string][]byte{
		"a changed List-Unsubscribe":  bytes.Replace(data, []byte("unsubscribe/tok-ann"), []byte("unsubscribe/tok-eve"), 1),
		"a second From on top":        append([]byte("From: Bank <alerts@bank.example>\r\n"), data...),
		"a second Subject on top":     append([]byte("Subject: Your account is locked\r\n"), data...),
		"a changed Subject":           changeHeader(data, "Subject: ", "Subject: Your account is locked"),
		"a second In-Reply-To on top": append([]byte("In-Reply-To: <x@evil.example>\r\n"), data...),
	} {
		vs, err := dkim.VerifyWithOptions(bytes.NewReader(tampered), &dkim.VerifyOptions{
			LookupTXT: func(string) ([]string, error) {
				return []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}, nil
			},
		})
		if err != nil || len(vs) != 1 || vs[0].Err == nil {
			t.Errorf("%s still verifies", what)
		}
	}
}

// changeHeader replaces the (unfolded) field starting with prefix by line.
func changeHeader(data []byte, prefix, line string) []byte {
	head, body, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	var out []string
	skip := false
	for l := range strings.SplitSeq(string(head), "\r\n") {
		switch {
		case strings.HasPrefix(l, prefix):
			out, skip = append(out, line), true
		case skip && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")):
		default:
			out, skip = append(out, l), false
		}
	}
	return append([]byte(strings.Join(out, "\r\n")+"\r\n\r\n"), body...)
}

// TestDKIMKeys: messages signed with an RSA or an Ed25519 key verify
// against the record Record says to publish, and Verify, the probe
// herald doctor runs, tells a matching record from a missing, a revoked
// and another key's.
func TestDKIMKeys(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := (&email.DKIM{Domain: "status.example.com", Selector: "sel", Signer: otherKey}).Record()
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]crypto.Signer{"rsa": rsaKey, "ed25519": edKey} {
		t.Run(name, func(t *testing.T) {
			d := &email.DKIM{Domain: "status.example.com", Selector: "sel", Signer: key}
			record, err := d.Record()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(record, "v=DKIM1; k="+name+"; p=") {
				t.Errorf("Record = %q", record)
			}
			env, err := newBuilder(t, d).Build(message(t, gateway.EventTest, 1))
			if err != nil {
				t.Fatal(err)
			}
			verify(t, env.Data, record)

			if name := d.RecordName(); name != "sel._domainkey.status.example.com" {
				t.Errorf("RecordName = %q", name)
			}
			answer := func(records ...string) func(string) ([]string, error) {
				return func(string) ([]string, error) { return records, nil }
			}
			if err := d.Verify(answer(record)); err != nil {
				t.Errorf("Verify with the matching record: %v", err)
			}
			for what, lookup := range map[string]func(string) ([]string, error){
				"no record":      func(string) ([]string, error) { return nil, &net.DNSError{Err: "no such host", IsNotFound: true} },
				"revoked":        answer("v=DKIM1; k=" + name + "; p="),
				"another key":    answer(other),
				"two records":    answer(record, record),
				"not a DKIM key": answer("v=spf1 -all"),
			} {
				if err := d.Verify(lookup); err == nil {
					t.Errorf("Verify with %s succeeded", what)
				}
			}
		})
	}
}
