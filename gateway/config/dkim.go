package config

import (
	"cmp"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// validateDKIM checks that the dkim keys come together and that the
// domain and selector can be DNS names. It does not read the key file.
func (c *Config) validateDKIM(p *problems) {
	d := c.DKIM
	if !d.Enabled() {
		return
	}
	switch {
	case d.Domain == "":
		p.add("dkim.domain", "required when dkim is configured: the signing domain (d=), normally mail_from's domain")
	case !dnsName(d.Domain):
		p.add("dkim.domain", "%q is not a domain name", d.Domain)
	}
	switch {
	case d.Selector == "":
		p.add("dkim.selector", "required when dkim is configured: it names the key, published as TXT at <selector>._domainkey.%s",
			cmp.Or(d.Domain, "<domain>"))
	case !dnsName(d.Selector):
		p.add("dkim.selector", "%q is not a DNS label (letters, digits and hyphens, dot-separated)", d.Selector)
	}
	if d.PrivateKeyFile == "" {
		p.add("dkim.private_key_file", "required when dkim is configured: a PEM file with the RSA or Ed25519 private key")
	}
}

var dnsLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// dnsName reports whether s is a dot-separated list of DNS labels (RFC
// 1035 letters, digits and hyphens; underscores are not allowed in d= or
// s= either, RFC 6376 section 3.5).
func dnsName(s string) bool {
	if len(s) > 253 {
		return false
	}
	for l := range strings.SplitSeq(s, ".") {
		if !dnsLabel.MatchString(l) {
			return false
		}
	}
	return true
}

// readDKIMKey reads and parses dkim.private_key_file into DKIM.Signer. A
// missing file name is left for Validate to report.
func (l *loader) readDKIMKey() error {
	d := &l.cfg.DKIM
	if d.PrivateKeyFile == "" {
		return nil
	}
	data, err := os.ReadFile(d.PrivateKeyFile)
	if err == nil {
		d.Signer, err = ParseDKIMKey(data)
		if err != nil {
			err = fmt.Errorf("%s holds %w", d.PrivateKeyFile, err)
		}
	}
	if err != nil {
		return l.locate(&FieldError{Path: "dkim.private_key_file", Msg: err.Error()})
	}
	return nil
}

// ParseDKIMKey reads a PEM private key for DKIM: PKCS#1 ("RSA PRIVATE
// KEY") or PKCS#8 ("PRIVATE KEY") holding RSA or Ed25519, what openssl
// genrsa and openssl genpkey write. RSA keys shorter than 1024 bits are
// refused: receivers treat their signatures as absent (RFC 8301).
func ParseDKIMKey(pemBytes []byte) (crypto.Signer, error) {
	const want = `want an RSA or Ed25519 private key in PEM: "RSA PRIVATE KEY" (PKCS#1) or "PRIVATE KEY" (PKCS#8)`
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("no PEM block (" + want + ")")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "PUBLIC KEY", "RSA PUBLIC KEY":
		return nil, errors.New("a public key: the private key signs; its public half goes into the DNS record")
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("an encrypted private key: Herald cannot ask for its passphrase; write it unencrypted (openssl pkey -in KEY -out PLAIN)")
	default:
		return nil, fmt.Errorf("a PEM block of type %q (%s)", block.Type, want)
	}
	if err != nil {
		return nil, fmt.Errorf("a broken %q block: %w", block.Type, err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 1024 {
			return nil, fmt.Errorf("an RSA key of %d bits: receivers ignore signatures made with fewer than 1024 (use 2048)", k.N.BitLen())
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return nil, errors.New("an ECDSA key: DKIM signs with RSA or Ed25519 only")
	}
	return nil, fmt.Errorf("a %T key: DKIM signs with RSA or Ed25519 only", key)
}
