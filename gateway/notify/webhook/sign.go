package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every signing secret, as the Standard Webhooks
// specification writes them.
const SecretPrefix = "whsec_"

// ErrSecret is wrapped when a signing secret is not whsec_ followed by
// standard base64 of at least 16 bytes.
var ErrSecret = errors.New("webhook: invalid signing secret")

// NewSecret returns a new signing secret: "whsec_" and the standard base64
// of 24 random bytes, which Standard Webhooks libraries accept as is.
func NewSecret() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// Sign returns the webhook-signature header value for a message: "v1,"
// and the base64 HMAC-SHA256, keyed by the secret's decoded bytes, of
// "<id>.<unix seconds of ts>.<body>" (Standard Webhooks, symmetric
// signatures). The error wraps ErrSecret for a malformed secret.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, ts.Unix(), 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

func secretKey(secret string) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: it does not start with %s", ErrSecret, SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSecret, err)
	}
	if len(key) < 16 {
		return nil, fmt.Errorf("%w: %d bytes, want at least 16", ErrSecret, len(key))
	}
	return key, nil
}

// MessageID returns the webhook-id of delivery deliveryID of event
// eventID: the same on every retry, so receivers can drop duplicates, and
// different for every delivery (the event id keeps it unique even if
// delivery ids start again in a new database).
func MessageID(deliveryID int64, eventID string) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, eventID)
	return "msg_" + safe + "_" + strconv.FormatInt(deliveryID, 10)
}
