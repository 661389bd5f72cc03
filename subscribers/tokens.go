package subscribers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// Link tokens. A token is not stored anywhere: it is the subscriber's id
// (so it can be looked up), for a confirmation its expiry, and an HMAC
// under the link key over (purpose, id, token nonce, expiry):
//
//	m.<id>.<mac>         manage       /subscriptions/{token}
//	u.<id>.<mac>         unsubscribe  /unsubscribe/{token}
//	c.<id>.<exp>.<mac>   confirm      /subscribe/confirm/{token}   (exp: unix seconds, base 36)
//
// The MAC is 128 bits, compared in constant time. A new token nonce (or
// the subscriber's erasure) revokes every token at once; the purpose in
// the MAC keeps an unsubscribe link from opening the manage page.
const (
	purposeManage      = "m"
	purposeUnsubscribe = "u"
	purposeConfirm     = "c"
)

// macLength is how many bytes of the HMAC a token carries.
const macLength = 16

// ErrInvalidLink is wrapped by the ENOTFOUND error of a token that is
// malformed, forged, revoked, or whose subscriber was erased.
var ErrInvalidLink = errors.New("subscribers: invalid link")

// ErrLinkExpired is wrapped by the ENOTFOUND error of a confirmation link
// past its expiry; the page should offer to subscribe again.
var ErrLinkExpired = errors.New("subscribers: link expired")

func invalidLink() error {
	return &gateway.Error{Code: gateway.ENOTFOUND, Err: ErrInvalidLink,
		Message: "This link is not valid: it may be incomplete, or the subscription no longer exists."}
}

func expiredLink() error {
	return &gateway.Error{Code: gateway.ENOTFOUND, Err: ErrLinkExpired,
		Message: "This confirmation link has expired. Please subscribe again to get a new one."}
}

// newNonce returns a fresh token nonce (128 bits).
func newNonce() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// mac computes a token's MAC.
func (s *Service) mac(purpose, id, nonce, exp string) []byte {
	h := hmac.New(sha256.New, s.keys.links)
	for _, part := range []string{"herald-link-v1", purpose, id, nonce, exp} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return h.Sum(nil)[:macLength]
}

// token mints a token for sub; exp is only for confirmations.
func (s *Service) token(purpose string, sub *gateway.Subscriber, exp time.Time) string {
	parts := []string{purpose, sub.ID}
	expText := ""
	if purpose == purposeConfirm {
		expText = strconv.FormatInt(exp.Unix(), 36)
		parts = append(parts, expText)
	}
	parts = append(parts, base64.RawURLEncoding.EncodeToString(s.mac(purpose, sub.ID, sub.TokenNonce, expText)))
	return strings.Join(parts, ".")
}

// parsedToken is a token split into its parts, not yet verified.
type parsedToken struct {
	purpose, id, exp string
	mac              []byte
}

// parseToken splits a token of one of the allowed purposes; any other
// shape is ErrInvalidLink.
func parseToken(tok string, allowed ...string) (parsedToken, error) {
	parts := strings.Split(tok, ".")
	if len(parts) < 3 || len(tok) > 200 {
		return parsedToken{}, invalidLink()
	}
	p := parsedToken{purpose: parts[0], id: parts[1]}
	want := 3
	if p.purpose == purposeConfirm {
		want = 4
		p.exp = parts[2]
	}
	if len(parts) != want || p.id == "" {
		return parsedToken{}, invalidLink()
	}
	ok := false
	for _, a := range allowed {
		ok = ok || a == p.purpose
	}
	// Strict: the last character of 16 bytes carries 4 unused bits, which
	// a lenient decoder ignores; one token has one spelling.
	mac, err := base64.RawURLEncoding.Strict().DecodeString(parts[want-1])
	if !ok || err != nil || len(mac) != macLength {
		return parsedToken{}, invalidLink()
	}
	p.mac = mac
	return p, nil
}

// verify checks a parsed token against its subscriber (whose nonce it must
// have been made with) at now: ErrInvalidLink or ErrLinkExpired. The
// expiry is checked after the MAC, so a forged token never learns whether
// its expiry would have passed.
func (s *Service) verify(p parsedToken, sub *gateway.Subscriber, now time.Time) error {
	if sub == nil || !hmac.Equal(p.mac, s.mac(p.purpose, sub.ID, sub.TokenNonce, p.exp)) {
		return invalidLink()
	}
	if p.purpose == purposeConfirm {
		sec, err := strconv.ParseInt(p.exp, 36, 64)
		if err != nil {
			return invalidLink()
		}
		if now.After(time.Unix(sec, 0)) {
			return expiredLink()
		}
	}
	return nil
}

// Links returns the subscriber's personal manage and unsubscribe URLs
// (absolute, under PublicURL), to put in every message: the dispatcher's
// Links hook. Both stay valid until the subscriber is erased or its links
// are revoked (RevokeLinks). A subscriber without an id gets none.
func (s *Service) Links(sub *gateway.Subscriber) (manage, unsubscribe string) {
	if sub == nil || sub.ID == "" || sub.TokenNonce == "" {
		return "", ""
	}
	return s.o.PublicURL + "/subscriptions/" + s.token(purposeManage, sub, time.Time{}),
		s.o.PublicURL + "/unsubscribe/" + s.token(purposeUnsubscribe, sub, time.Time{})
}

// ConfirmLink returns a new confirmation URL for sub, valid for
// Options.ConfirmTTL from now.
func (s *Service) ConfirmLink(sub *gateway.Subscriber) string {
	return s.o.PublicURL + "/subscribe/confirm/" + s.token(purposeConfirm, sub, s.o.Now().Add(s.o.ConfirmTTL))
}

// SignForm returns the HMAC of data under the public forms' key (derived
// from the subscribers key for this use only), which every replica
// shares: the CSRF tokens of the subscribe and manage forms.
func (s *Service) SignForm(data []byte) []byte {
	h := hmac.New(sha256.New, s.keys.forms)
	h.Write(data)
	return h.Sum(nil)
}
