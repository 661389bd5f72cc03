package email

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// DKIM is what signing needs. Herald's configuration would carry it as
// dkim.domain, dkim.selector and dkim.private_key_file (PEM; read with
// ParseDKIMKey).
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

// signedHeaders are the fields a signature covers when present: the ones a
// reader sees, the ones the unsubscribe and threading promises rest on,
// and the MIME structure.
var signedHeaders = []string{
	"From", "To", "Subject", "Date", "Message-Id", "In-Reply-To", "References",
	"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted",
	"Mime-Version", "Content-Type",
}

// sign prepends a DKIM-Signature to raw when the Builder has a key, with
// relaxed/relaxed canonicalization, covering the signedHeaders that raw
// has.
func (b *Builder) sign(raw []byte) ([]byte, error) {
	if b.dkim == nil {
		return raw, nil
	}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	var keys []string
	for _, k := range signedHeaders {
		if hasField(head, k) {
			keys = append(keys, k)
		}
	}
	var out bytes.Buffer
	out.Grow(len(raw) + 600)
	err := dkim.Sign(&out, bytes.NewReader(raw), &dkim.SignOptions{
		Domain:                 b.dkim.Domain,
		Selector:               b.dkim.Selector,
		Signer:                 b.dkim.Signer,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             keys,
	})
	if err != nil {
		return nil, fmt.Errorf("email: dkim sign: %w", err)
	}
	return out.Bytes(), nil
}

// hasField reports whether the header block head has a field named k
// (case-insensitive) at the start of a line.
func hasField(head []byte, k string) bool {
	prefix := strings.ToLower(k) + ":"
	for line := range strings.SplitSeq(string(head), "\r\n") {
		if strings.HasPrefix(strings.ToLower(line), prefix) {
			return true
		}
	}
	return false
}

// ParseDKIMKey reads a PEM private key for DKIM: PKCS#1 ("RSA PRIVATE
// KEY") or PKCS#8 ("PRIVATE KEY") holding RSA or Ed25519. RSA keys shorter
// than 1024 bits are refused: receivers treat their signatures as absent.
func ParseDKIMKey(pemBytes []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("email: dkim key: no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("email: dkim key: unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("email: dkim key: %w", err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 1024 {
			return nil, fmt.Errorf("email: dkim key: RSA key of %d bits is too short", k.N.BitLen())
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("email: dkim key: unsupported key type %T", key)
}
