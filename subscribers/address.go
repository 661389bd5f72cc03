package subscribers

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/heraldstatus/herald/gateway"
)

// MaxAddressLength is RFC 5321's limit on a forward path (254 octets).
const MaxAddressLength = 254

// NormalizeEmail validates an email address typed by a person or found in
// an import and returns its normalized form: surrounding space trimmed, the
// domain lowercased (domains are case-insensitive; local parts, strictly,
// are not, so they are kept as written). It refuses display names, anything
// that could inject a header (CR, LF, NUL, other control characters),
// addresses over 254 octets or with a local part over 64, and domains
// without a dot (an intranet name is not a place Herald should mail).
// Errors are EUNPROCESSABLE naming the field "email".
func NormalizeEmail(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return "", gateway.FieldError("email", "is required")
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", gateway.FieldError("email", "must not contain control characters")
	case len(s) > MaxAddressLength:
		return "", gateway.FieldError("email", "is longer than 254 characters")
	case !utf8.ValidString(s):
		return "", gateway.FieldError("email", "is not valid UTF-8")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", gateway.FieldError("email", "is not an email address like name@example.com")
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if len(local) > 64 {
		return "", gateway.FieldError("email", "has a local part longer than 64 characters")
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.Contains(domain, "..") || strings.HasPrefix(domain, "[") {
		return "", gateway.FieldError("email", "must have a domain like example.com")
	}
	return local + "@" + domain, nil
}
