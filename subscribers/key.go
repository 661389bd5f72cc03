package subscribers

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/heraldstatus/herald/gateway/store"
)

// KeySetting names the settings row that keeps a generated subscribers key
// when no secret_key is configured.
const KeySetting = "subscribers.secret_key"

// MinKeyLength is the shortest configured secret_key accepted, in bytes.
const MinKeyLength = 16

// LoadKey returns the key that signs subscriber links and seals webhook
// secrets: the configured secret_key (HERALD_SECRET_KEY) when it is set,
// else one generated on first use and kept in the settings table, which
// every replica then shares (store.SettingOrCreate is race-safe).
//
// Prefer a configured secret_key in production: a key kept in the
// database protects nothing against someone who has a copy of the
// database, since the sealed secrets sit next to it. Changing the key
// (including moving from the generated one to a configured one) revokes
// every link already sent and makes stored webhook secrets unreadable:
// rotate those secrets afterwards.
func LoadKey(ctx context.Context, st *store.Store, configured string) ([]byte, error) {
	if configured != "" {
		if len(configured) < MinKeyLength {
			return nil, fmt.Errorf("subscribers: secret_key is %d bytes; use at least %d (e.g. openssl rand -hex 32)", len(configured), MinKeyLength)
		}
		return []byte(configured), nil
	}
	var fresh [32]byte
	if _, err := rand.Read(fresh[:]); err != nil {
		return nil, fmt.Errorf("subscribers: generate key: %w", err)
	}
	v, err := st.SettingOrCreate(ctx, KeySetting, hex.EncodeToString(fresh[:]))
	if err != nil {
		return nil, fmt.Errorf("subscribers: load key: %w", err)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < MinKeyLength {
		return nil, fmt.Errorf("subscribers: the %s setting is not a hex key of at least %d bytes", KeySetting, MinKeyLength)
	}
	return key, nil
}

// keys are the purpose-bound keys derived from the one secret: a key is
// never used for two things.
type keys struct {
	links []byte // HMAC-SHA256 of manage, unsubscribe and confirmation links
	forms []byte // HMAC-SHA256 of the public forms' CSRF tokens
	box   *secretBox
}

func deriveKeys(secret []byte) (keys, error) {
	links, err := hkdf.Key(sha256.New, secret, nil, "herald subscriber links v1", 32)
	if err != nil {
		return keys{}, fmt.Errorf("subscribers: derive link key: %w", err)
	}
	forms, err := hkdf.Key(sha256.New, secret, nil, "herald public forms v1", 32)
	if err != nil {
		return keys{}, fmt.Errorf("subscribers: derive form key: %w", err)
	}
	sealKey, err := hkdf.Key(sha256.New, secret, nil, "herald webhook secrets v1", 32)
	if err != nil {
		return keys{}, fmt.Errorf("subscribers: derive sealing key: %w", err)
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return keys{}, fmt.Errorf("subscribers: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return keys{}, fmt.Errorf("subscribers: %w", err)
	}
	return keys{links: links, forms: forms, box: &secretBox{aead: aead}}, nil
}

// sealedPrefix marks a sealed secret: version 1 is AES-256-GCM with a
// random 96-bit nonce, stored as base64url(nonce || ciphertext).
const sealedPrefix = "v1:"

// secretAAD binds sealed values to their use: a sealed webhook secret
// opens only as one.
var secretAAD = []byte("herald webhook secret")

// secretBox implements store.SecretBox with AES-GCM.
type secretBox struct{ aead cipher.AEAD }

var _ store.SecretBox = (*secretBox)(nil)

// ErrSealed is wrapped when a stored secret cannot be opened: it was
// sealed under another key, or it is damaged.
var ErrSealed = errors.New("subscribers: cannot open a sealed secret")

// Seal implements store.SecretBox.
func (b *secretBox) Seal(plain string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("subscribers: seal: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(plain), secretAAD)
	return sealedPrefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open implements store.SecretBox. A value without the sealed prefix was
// stored in plain text (before sealing existed) and is returned as it is.
func (b *secretBox) Open(stored string) (string, error) {
	enc, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", fmt.Errorf("%w: malformed", ErrSealed)
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], secretAAD)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrSealed, err)
	}
	return string(plain), nil
}
