package store

import (
	"context"
)

// SettingOrCreate returns the stored value of a setting, storing value
// first if the setting does not exist. It is race-safe across processes
// and replicas: the insert does nothing when another got there first, and
// everyone then reads the one value that won. The subscribers key is kept
// this way when no secret_key is configured.
func (s *Store) SettingOrCreate(ctx context.Context, key, value string) (string, error) {
	if _, err := s.wdb.ExecContext(ctx, s.q.InsertSettingOnce, key, value, s.now()); err != nil {
		return "", wrap("insert setting", err)
	}
	var v string
	// Read through the writer: on SQLite it is the connection that just
	// wrote, so there is no question of what it sees.
	err := s.wdb.GetContext(ctx, &v, s.q.GetSetting, key)
	return v, wrap("get setting", err)
}

// SecretBox seals webhook signing secrets before they are stored and opens
// them when they are loaded for sending, so the database never holds one in
// plain text. The subscribers package implements it (AES-GCM under a key
// derived from the server's secret key) and installs it with SetSecretBox.
type SecretBox interface {
	// Seal returns the stored form of a plain secret.
	Seal(plain string) (string, error)
	// Open returns the plain secret of a stored one. A value that was never
	// sealed (a plain whsec_… written before sealing existed) comes back as
	// it is.
	Open(stored string) (string, error)
}

// boxed holds a SecretBox behind an atomic pointer.
type boxed struct{ SecretBox }

// SetSecretBox installs the box that Batch, Subscriber and
// StreamSubscribers open secrets with, and SealSecret seals with. Without
// one, secrets are stored and returned as they are.
func (s *Store) SetSecretBox(b SecretBox) {
	if b == nil {
		s.box.Store(nil)
		return
	}
	s.box.Store(&boxed{b})
}

// SealSecret returns the stored form of a webhook secret: sealed by the
// installed SecretBox, or as it is when none is installed.
func (s *Store) SealSecret(plain string) (string, error) {
	b := s.box.Load()
	if b == nil || plain == "" {
		return plain, nil
	}
	return b.Seal(plain)
}

// openSecret returns the plain form of a stored secret. One that cannot be
// opened (a changed secret key) is logged and returned sealed: signing
// with it then fails and the delivery fails permanently, which is safer
// than sending unsigned.
func (s *Store) openSecret(subscriberID, stored string) string {
	b := s.box.Load()
	if b == nil || stored == "" {
		return stored
	}
	plain, err := b.Open(stored)
	if err != nil {
		s.log.Error("cannot open a webhook secret: was the secret key changed?", "subscriber_id", subscriberID, "err", err)
		return stored
	}
	return plain
}
