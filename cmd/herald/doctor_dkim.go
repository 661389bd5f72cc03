package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strings"

	"github.com/heraldstatus/herald/gateway/config"
	"github.com/heraldstatus/herald/gateway/notify/email"
)

// dkim checks what receivers check: the TXT record at
// <selector>._domainkey.<domain> must hold the public half of the
// configured key. A probe is signed with the key and verified against the
// record as it is published now, so a missing, malformed, revoked or stale
// record fails, and the hint gives the record to publish. lookup answers
// the DNS query (the system resolver outside tests).
func (d *doctor) dkim(ctx context.Context, cfg *config.Config, lookup func(context.Context, string) ([]string, error)) {
	k := email.ConfiguredDKIM(cfg.DKIM)
	if k == nil {
		d.skip("dkim", "dkim is not configured: mail goes out unsigned")
		return
	}
	record, err := k.Record()
	if err != nil {
		d.fail("dkim", err, "use an RSA or Ed25519 key in dkim.private_key_file")
		return
	}
	name := k.RecordName()
	publish := fmt.Sprintf("publish a TXT record at %s: %s", name, record)
	var lookupErr error
	verifyErr := k.Verify(func(n string) ([]string, error) {
		lctx, cancel := context.WithTimeout(ctx, d.timeout)
		defer cancel()
		txt, err := lookup(lctx, n)
		lookupErr = err
		return txt, err
	})
	var dnsErr *net.DNSError
	switch {
	case errors.As(lookupErr, &dnsErr) && dnsErr.IsNotFound:
		d.fail("dkim", fmt.Errorf("no TXT record at %s: receivers cannot check the signatures", name), publish)
		return
	case lookupErr != nil:
		d.fail("dkim", fmt.Errorf("looking up TXT %s: %w", name, lookupErr), "check this machine's resolver; then "+publish)
		return
	case verifyErr != nil:
		d.fail("dkim", fmt.Errorf("the TXT record at %s does not verify mail signed with %s: %w", name, cfg.DKIM.PrivateKeyFile, verifyErr),
			"replace it: "+publish)
		return
	}
	detail := fmt.Sprintf("the TXT record at %s holds the public half of the %s key in %s", name, keyKind(cfg.DKIM), cfg.DKIM.PrivateKeyFile)
	if from := fromDomain(cfg.MailFrom); from != "" && lastLabels(from, 2) != lastLabels(k.Domain, 2) {
		d.warn("dkim", detail+fmt.Sprintf("; but mail_from's domain %s is not under dkim.domain %s, so DMARC does not count the signature", from, k.Domain),
			"set dkim.domain to mail_from's domain (or a parent of it) and publish the record there")
		return
	}
	d.ok("dkim", detail)
}

// keyKind describes the key: "RSA 2048-bit" or "Ed25519".
func keyKind(c config.DKIM) string {
	switch k := c.Signer.(type) {
	case *rsa.PrivateKey:
		return fmt.Sprintf("RSA %d-bit", k.N.BitLen())
	case ed25519.PrivateKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", c.Signer)
}

// fromDomain is the domain of an address, lower-cased; "" when it has none.
func fromDomain(addr string) string {
	a, err := mail.ParseAddress(addr)
	if err != nil {
		return ""
	}
	_, domain, _ := strings.Cut(a.Address, "@")
	return strings.ToLower(domain)
}

// lastLabels is the last n labels of a domain name: a stand-in for the
// organizational domain DMARC aligns on, good enough to tell two unrelated
// domains apart.
func lastLabels(domain string, n int) string {
	labels := strings.Split(strings.TrimSuffix(strings.ToLower(domain), "."), ".")
	return strings.Join(labels[max(0, len(labels)-n):], ".")
}
