package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Passwords are hashed with argon2id at OWASP's recommended minimum
// (m=19 MiB, t=2, p=1: about 20–50 ms on one core), salted with 16 random
// bytes, and stored in the PHC string format
// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, so that stronger
// parameters can come later without invalidating stored hashes: Verify
// reads the parameters from each hash.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// HashPassword returns the stored form of password.
func HashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// VerifyPassword reports whether password matches the stored hash,
// comparing in constant time. A malformed or empty hash (an account
// without a password) matches nothing.
func VerifyPassword(password, encoded string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || t == 0 || p == 0 || m > 1<<21 || t > 20 {
		return false // the bounds keep a tampered row from costing minutes or gigabytes
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is verified against when the account does not exist (or has
// no password), so that a sign-in costs one KDF run either way and its
// timing does not reveal which emails have accounts.
var dummyHash = HashPassword("herald-dummy-password")

// GeneratePassword returns a random password for a new account or a
// reset: crypto/rand's Text, 26 base32 characters (128 bits).
func GeneratePassword() string { return rand.Text() }

// MinPasswordLength is the shortest password an operator may choose.
const MinPasswordLength = 12
