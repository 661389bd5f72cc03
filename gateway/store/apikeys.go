package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldstatus/herald/gateway"
)

// keyQueries are the statements of queries/apikeys.sql: API keys, the
// audit log and settings.
type keyQueries struct {
	InsertAPIKey      string `query:"insert-api-key"`
	APIKeyByHash      string `query:"api-key-by-hash"`
	APIKeyStateByHash string `query:"api-key-state-by-hash"`
	TouchAPIKey       string `query:"touch-api-key"`
	CountAPIKeys      string `query:"count-api-keys"`
	ListAPIKeys       string `query:"list-api-keys"`
	RevokeAPIKey      string `query:"revoke-api-key"`
	RetireAPIKeyName  string `query:"retire-api-key-name"`
	LiveAPIKeyByName  string `query:"live-api-key-by-name"`
	InsertAuditLog    string `query:"insert-audit-log"`
	ListAuditLog      string `query:"list-audit-log"`
	UpsertSetting     string `query:"upsert-setting"`
	GetSetting        string `query:"get-setting"`
}

// apiKeyRow scans a key: the nullable times into zero values.
type apiKeyRow struct {
	gateway.APIKey
	LastUsedAt optTime
	ExpiresAt  optTime
	RevokedAt  optTime
}

func (r apiKeyRow) key() gateway.APIKey {
	k := r.APIKey
	k.LastUsedAt, k.ExpiresAt, k.RevokedAt = r.LastUsedAt.Time, r.ExpiresAt.Time, r.RevokedAt.Time
	return k
}

// CreateAPIKey stores a new key for name and role that does not expire;
// see CreateAPIKeyUntil.
func (s *Store) CreateAPIKey(ctx context.Context, name string, role gateway.Role, by string) (*gateway.APIKey, string, error) {
	return s.CreateAPIKeyUntil(ctx, name, role, by, time.Time{})
}

// CreateAPIKeyUntil stores a new key for name and role, expiring at
// expiresAt (zero: never), and returns the key with its secret, which is
// never stored and cannot be shown again. EUNPROCESSABLE names the field
// at fault (name, role, expires_at: it must be in the future); ECONFLICT
// when a live key has the name.
func (s *Store) CreateAPIKeyUntil(ctx context.Context, name string, role gateway.Role, by string, expiresAt time.Time) (*gateway.APIKey, string, error) {
	if err := gateway.ValidateName("name", name); err != nil {
		return nil, "", err
	}
	if !role.Valid() {
		return nil, "", gateway.FieldError("role", "must be admin, support or viewer")
	}
	if !expiresAt.IsZero() && !expiresAt.After(s.now()) {
		return nil, "", gateway.FieldError("expires_at", "must be in the future")
	}
	var k *gateway.APIKey
	secret := gateway.NewSecret("hrld_")
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		var err error
		k, err = s.insertAPIKey(ctx, tx, name, role, by, secret, expiresAt)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// EnsureAPIKey makes secret the live key named name: HERALD_ADMIN_TOKEN
// bootstraps admin access this way. Nothing changes when that key exists
// already. A different live key of that name (the previous token) is
// revoked in the same transaction, so changing the variable rotates the
// key. A secret that was revoked stays revoked: ECONFLICT, so that a
// leaked token cannot come back through the environment. rotated reports
// whether an old key was revoked.
func (s *Store) EnsureAPIKey(ctx context.Context, name string, role gateway.Role, secret string) (rotated bool, err error) {
	var state struct {
		ID        string
		RevokedAt optTime
		ExpiresAt optTime
	}
	err = s.db.GetContext(ctx, &state, s.q.APIKeyStateByHash, gateway.HashSecret(secret))
	switch {
	case err == nil && state.RevokedAt.IsZero() && (state.ExpiresAt.IsZero() || state.ExpiresAt.After(s.now())):
		return false, nil
	case err == nil:
		return false, gateway.Errorf(gateway.ECONFLICT, "This key was revoked (or has expired) and stays so; choose a new one.")
	case !errors.Is(err, sql.ErrNoRows):
		return false, wrap("api key by hash", err)
	}
	err = s.tx(ctx, func(tx *sqlx.Tx) error {
		var old string
		err := tx.GetContext(ctx, &old, s.q.LiveAPIKeyByName, name)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return wrap("api key by name", err)
		}
		if old != "" {
			// ENOTFOUND: a replica starting with the same new token revoked
			// it first; the insert below then conflicts, and that is fine.
			if err := s.revokeAPIKey(ctx, tx, old); err != nil && gateway.ErrorCode(err) != gateway.ENOTFOUND {
				return err
			}
			rotated = true
		}
		_, err = s.insertAPIKey(ctx, tx, name, role, "config", secret, time.Time{})
		return err
	})
	if gateway.ErrorCode(err) == gateway.ECONFLICT {
		// Replicas starting together: another one stored the same key
		// between the lookup and the insert.
		if _, kerr := s.APIKeyBySecret(ctx, secret); kerr == nil {
			return false, nil
		}
	}
	return rotated, err
}

func (s *Store) insertAPIKey(ctx context.Context, tx *sqlx.Tx, name string, role gateway.Role, by, secret string, expiresAt time.Time) (*gateway.APIKey, error) {
	k := &gateway.APIKey{ID: gateway.NewID(), Name: name, Role: role, Prefix: gateway.SecretPrefix(secret),
		Hash: gateway.HashSecret(secret), CreatedBy: by, CreatedAt: s.now(), ExpiresAt: storedOrZero(expiresAt)}
	_, err := tx.ExecContext(ctx, s.q.InsertAPIKey, k.ID, k.Name, k.Role, k.Hash, k.Prefix, by, k.CreatedAt, nullable(expiresAt))
	if err != nil {
		return nil, conflictName(wrap("insert api key", err), "key", name)
	}
	return k, nil
}

func storedOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return storedTime(t)
}

// APIKeyBySecret finds the live key whose hash matches secret: not
// revoked, not expired; EUNAUTHORIZED when none does. It reads the
// database every time (no cache), so a revoke takes effect on every
// replica at the next request. The lookup is by hash (an index probe),
// and the final comparison is constant-time.
func (s *Store) APIKeyBySecret(ctx context.Context, secret string) (*gateway.APIKey, error) {
	var r apiKeyRow
	err := s.db.GetContext(ctx, &r, s.q.APIKeyByHash, gateway.HashSecret(secret), s.now())
	if errors.Is(err, sql.ErrNoRows) || err == nil && !gateway.SecretMatches(secret, r.Hash) {
		return nil, gateway.Errorf(gateway.EUNAUTHORIZED, "Invalid API key.")
	}
	if err != nil {
		return nil, wrap("api key by hash", err)
	}
	k := r.key()
	return &k, nil
}

// TouchAPIKey records a key's use; callers throttle it so that reads stay reads.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	_, err := s.wdb.ExecContext(ctx, s.q.TouchAPIKey, storedTime(at), id)
	return wrap("touch api key", err)
}

// CountAPIKeys counts live keys: zero on a new database, when Herald prints
// a bootstrap key.
func (s *Store) CountAPIKeys(ctx context.Context) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, s.q.CountAPIKeys, s.now())
	return n, wrap("count api keys", err)
}

// APIKeys lists every key, newest first, revoked and expired ones too
// (the record of who had access), without hashes or secrets.
func (s *Store) APIKeys(ctx context.Context) ([]gateway.APIKey, error) {
	var rows []apiKeyRow
	if err := s.db.SelectContext(ctx, &rows, s.q.ListAPIKeys); err != nil {
		return nil, wrap("list api keys", err)
	}
	out := make([]gateway.APIKey, len(rows))
	for i, r := range rows {
		out[i] = r.key()
	}
	return out, nil
}

// RevokeAPIKey stops a live key (by id or name) from working at once, on
// every replica: keys are checked in the database at every request. Its
// name is freed (renamed with its id) for a replacement. ENOTFOUND when
// no live key matches.
func (s *Store) RevokeAPIKey(ctx context.Context, idOrName string) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error {
		var id string
		err := tx.GetContext(ctx, &id, s.q.LiveAPIKeyByName, idOrName)
		if errors.Is(err, sql.ErrNoRows) {
			id = idOrName
		} else if err != nil {
			return wrap("api key by name", err)
		}
		return s.revokeAPIKey(ctx, tx, id)
	})
}

func (s *Store) revokeAPIKey(ctx context.Context, tx *sqlx.Tx, id string) error {
	res, err := tx.ExecContext(ctx, s.q.RevokeAPIKey, s.now(), id)
	if err != nil {
		return wrap("revoke api key", err)
	}
	if err := mustAffect(res, "API key", id); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, s.q.RetireAPIKeyName, id)
	return wrap("retire api key name", err)
}

// Setting returns a stored setting, or "" when it is not set.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.GetContext(ctx, &v, s.q.GetSetting, key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, wrap("get setting", err)
}

// SetSetting stores a setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.wdb.ExecContext(ctx, s.q.UpsertSetting, key, value, s.now())
	return wrap("set setting", err)
}
