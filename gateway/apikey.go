package gateway

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"strings"
	"time"
)

// APIKey authorizes calls to the admin API. Only its hash is stored; the
// secret is shown once, when it is created.
type APIKey struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Prefix is at most 4 characters of the key (see SecretPrefix), to
	// recognize one in a list or a leaked log line; never enough to guess it.
	Prefix    string    `json:"prefix"`
	Hash      string    `json:"-"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// LastUsedAt is updated at most once a minute per key and replica.
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	// ExpiresAt, when set, is when the key stops working by itself.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// State is the key's state at now, in words: "revoked", "expired" or
// "live".
func (k APIKey) State(now time.Time) string {
	switch {
	case !k.RevokedAt.IsZero():
		return "revoked"
	case !k.ExpiresAt.IsZero() && !k.ExpiresAt.After(now):
		return "expired"
	}
	return "live"
}

// MinAdminTokenLength is the shortest HERALD_ADMIN_TOKEN accepted: an
// admin key guards everything, so it must be long enough that guessing
// it online is hopeless (32 characters of openssl rand -hex 16).
const MinAdminTokenLength = 32

// Principal is whoever performs an action: an API key, a console user, or
// Herald's own automation. Audit records carry its Name.
type Principal struct {
	Kind string // "api_key", "user", "automation", "config"
	ID   string
	Name string
	Role Role
}

// Automation is the principal for what Herald does by itself.
var Automation = Principal{Kind: "automation", Name: "automation", Role: RoleAdmin}

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a random opaque identifier of 16 lowercase characters
// (80 bits), the form of every id Herald shows.
func NewID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return idEncoding.EncodeToString(b[:])
}

// NewSecret returns a random secret with a readable prefix, e.g.
// "hrld_…" for API keys or "hsrc_…" for source tokens: 160 bits of entropy.
func NewSecret(prefix string) string {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + idEncoding.EncodeToString(b[:])
}

// HashSecret returns the stored form of an API key or token. Secrets are
// random and long, so a fast hash is enough; a KDF is for passwords.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SecretMatches compares a presented secret against a stored hash in
// constant time.
func SecretMatches(secret, hash string) bool {
	got := HashSecret(secret)
	return subtle.ConstantTimeCompare([]byte(got), []byte(strings.ToLower(hash))) == 1
}

// SecretPrefix returns what may be shown of a secret to recognize it: 4
// characters, those after a Herald marker such as "hrld_" or "hsrc_"
// (the same in every key, so they tell nothing), else the first 4. A
// secret shorter than 16 characters shows nothing: 4 characters of it
// would be a real head start on guessing the rest.
func SecretPrefix(secret string) string {
	const shown = 4
	if len(secret) < 16 {
		return ""
	}
	if i := strings.IndexByte(secret, '_'); i >= 1 && i <= 4 && isMarker(secret[:i]) {
		secret = secret[i+1:]
	}
	r := []rune(secret)
	return string(r[:min(shown, len(r))])
}

// isMarker reports whether s is a Herald secret marker: a few lowercase
// letters, as in hrld, hsrc, hses.
func isMarker(s string) bool {
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}
