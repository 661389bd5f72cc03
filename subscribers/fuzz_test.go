package subscribers

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// FuzzLinkToken: a manage, unsubscribe or confirmation token that was not
// minted by the service never verifies, whatever its shape; only the
// minted tokens' own parts do (base64's unused low bits let a few spellings
// of one MAC decode alike, which forges nothing). Parsing never panics and
// a token of one purpose is never taken for another.
func FuzzLinkToken(f *testing.F) {
	k, err := deriveKeys(bytes.Repeat([]byte("k"), MinKeyLength))
	if err != nil {
		f.Fatal(err)
	}
	s := &Service{keys: k}
	sub := &gateway.Subscriber{ID: "01J9Z8S3M4ABCDEF", TokenNonce: "bm9uY2Vub25jZW5vbmNl"}
	exp := time.Unix(1_900_000_000, 0)
	now := time.Unix(1_800_000_000, 0)
	minted := map[string]parsedToken{}
	for _, purpose := range []string{purposeManage, purposeUnsubscribe, purposeConfirm} {
		tok := s.token(purpose, sub, exp)
		p, err := parseToken(tok, purpose)
		if err != nil || s.verify(p, sub, now) != nil {
			f.Fatalf("minted %s token %q does not verify: %v", purpose, tok, err)
		}
		minted[purpose] = p
		f.Add(tok)
		f.Add(strings.Replace(tok, purpose+".", "x.", 1))
		f.Add(tok[:len(tok)-1] + "A")
	}
	for _, s := range []string{"", ".", "m..", "c.id.zz.AAAAAAAAAAAAAAAAAAAAAA", "m.01J9Z8S3M4ABCDEF.AAAAAAAAAAAAAAAAAAAAAA",
		"c.01J9Z8S3M4ABCDEF.-1.AAAAAAAAAAAAAAAAAAAAAA", strings.Repeat("m.", 150)} {
		f.Add(s)
	}
	all := []string{purposeManage, purposeUnsubscribe, purposeConfirm}
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := parseToken(tok, all...)
		if err != nil {
			return
		}
		for _, other := range all {
			if other != p.purpose {
				if _, err := parseToken(tok, other); err == nil {
					t.Fatalf("%q, a %s token, parsed as %s", tok, p.purpose, other)
				}
			}
		}
		found := sub // the subscriber the token's id looks up, as bySubscriberToken does
		if p.id != sub.ID {
			found = &gateway.Subscriber{ID: p.id, TokenNonce: sub.TokenNonce}
		}
		if err := s.verify(p, found, now); err == nil {
			m := minted[p.purpose]
			if p.id != m.id || p.exp != m.exp || !bytes.Equal(p.mac, m.mac) {
				t.Fatalf("%q verifies but is not a minted token", tok)
			}
		}
	})
}
