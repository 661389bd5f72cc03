package email

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// DKIM is what signing needs: Herald's configuration carries it as
// dkim.domain, dkim.selector and dkim.private_key_file (the config package
// reads and parses the key).
type DKIM struct {
	// Domain is the signing domain (d=), normally the sending domain or a
	// parent of it, so the signature aligns with From for DMARC.
	Domain string
	// Selector (s=) names the key: its public half is published as TXT at
	// <selector>._domainkey.<domain>.
	Selector string
	// Signer is the private key: RSA (2048 bits or more) or Ed25519.
	Signer crypto.Signer
}

func (d *DKIM) check() error {
	switch {
	case d.Domain == "" || d.Selector == "" || d.Signer == nil:
		return errors.New("email: dkim needs a domain, a selector and a key")
	case strings.ContainsAny(d.Domain+d.Selector, " ;=\r\n"):
		return errors.New("email: dkim domain or selector has a space, ';', '=' or line break")
	}
	return nil
}

// signedHeaders are the fields a signature covers: the ones a reader sees,
// the ones the unsubscribe and threading promises rest on, and the MIME
// structure. Each is oversigned (RFC 6376 sections 5.4.2 and 8.15): named
// once more than the message has it, so that a copy added on the way (a
// second From or Subject, an unsubscribe link where there was none) breaks
// the signature instead of being shown to the reader beside a valid one.
var signedHeaders = []string{
	"From", "To", "Subject", "Date", "Message-Id", "In-Reply-To", "References",
	"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted",
	"Mime-Version", "Content-Type",
}

// signOptions are the options of every signature d makes: relaxed/relaxed
// canonicalization, covering and oversigning the signedHeaders of the
// header block head.
func (d *DKIM) signOptions(head []byte) *dkim.SignOptions {
	var keys []string
	for _, k := range signedHeaders {
		for range countFields(head, k) + 1 {
			keys = append(keys, k)
		}
	}
	return &dkim.SignOptions{
		Domain:                 d.Domain,
		Selector:               d.Selector,
		Signer:                 d.Signer,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             keys,
	}
}

// sign prepends a DKIM-Signature to raw when the Builder has a key.
func (b *Builder) sign(raw []byte) ([]byte, error) {
	if b.dkim == nil {
		return raw, nil
	}
	return b.dkim.sign(raw)
}

func (d *DKIM) sign(raw []byte) ([]byte, error) {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	var out bytes.Buffer
	out.Grow(len(raw) + 600)
	if err := dkim.Sign(&out, bytes.NewReader(raw), d.signOptions(head)); err != nil {
		return nil, fmt.Errorf("email: dkim sign: %w", err)
	}
	return out.Bytes(), nil
}

// countFields counts the fields named k (case-insensitive) in the header
// block head.
func countFields(head []byte, k string) int {
	prefix := strings.ToLower(k) + ":"
	n := 0
	for line := range strings.SplitSeq(string(head), "\r\n") {
		if strings.HasPrefix(strings.ToLower(line), prefix) {
			n++
		}
	}
	return n
}

// RecordName is the DNS name receivers look the public key up at.
func (d *DKIM) RecordName() string { return d.Selector + "._domainkey." + d.Domain }

// Record returns the TXT record to publish at RecordName for d's key:
// "v=DKIM1; k=rsa; p=<SubjectPublicKeyInfo, base64>" or "v=DKIM1;
// k=ed25519; p=<the 32-byte key, base64>" (RFC 6376 section 3.6.1, RFC
// 8463 section 4.2).
func (d *DKIM) Record() (string, error) {
	switch pub := d.Signer.Public().(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", fmt.Errorf("email: dkim public key: %w", err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub), nil
	default:
		return "", fmt.Errorf("email: dkim public key of type %T", pub)
	}
}

// Verify signs a probe message as every message is signed and verifies it
// as a receiver would, with lookupTXT answering the DNS query for
// RecordName. A nil error means the published record holds d's public key
// and receivers will accept the signatures. The error says what a
// receiver would: no record, a malformed one, or another key.
func (d *DKIM) Verify(lookupTXT func(name string) ([]string, error)) error {
	probe := []byte("From: <probe@" + d.Domain + ">\r\nSubject: herald dkim probe\r\n" +
		"Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n\r\nprobe\r\n")
	signed, err := d.sign(probe)
	if err != nil {
		return err
	}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(signed), &dkim.VerifyOptions{LookupTXT: lookupTXT})
	switch {
	case err != nil:
		return err
	case len(vs) != 1:
		return fmt.Errorf("email: dkim: %d signatures on the probe, want 1", len(vs))
	}
	return vs[0].Err
}
