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
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Role       Role      `json:"role"`
	Prefix     string    `json:"prefix"` // the first characters, to recognize a key in lists
	Hash       string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

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

// SecretPrefix returns the displayable start of a secret.
func SecretPrefix(secret string) string {
	if len(secret) > 9 {
		return secret[:9]
	}
	return secret
}
