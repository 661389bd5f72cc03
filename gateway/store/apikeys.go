package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// keyQueries are the statements of queries/apikeys.sql: API keys, the
// audit log and settings.
type keyQueries struct {
	InsertAPIKey   string `query:"insert-api-key"`
	APIKeyByHash   string `query:"api-key-by-hash"`
	TouchAPIKey    string `query:"touch-api-key"`
	CountAPIKeys   string `query:"count-api-keys"`
	ListAPIKeys    string `query:"list-api-keys"`
	RevokeAPIKey   string `query:"revoke-api-key"`
	InsertAuditLog string `query:"insert-audit-log"`
	ListAuditLog   string `query:"list-audit-log"`
	UpsertSetting  string `query:"upsert-setting"`
	GetSetting     string `query:"get-setting"`
}

// CreateAPIKey stores a new key for name and role and returns the key with
// its secret, which is never stored and cannot be shown again.
func (s *Store) CreateAPIKey(ctx context.Context, name string, role gateway.Role, by string) (*gateway.APIKey, string, error) {
	if err := gateway.ValidateName("name", name); err != nil {
		return nil, "", err
	}
	if !role.Valid() {
		return nil, "", gateway.FieldError("role", "must be admin, support or viewer")
	}
	return s.insertAPIKey(ctx, name, role, by, gateway.NewSecret("hrld_"))
}

// EnsureAPIKey stores secret as the key of name unless a key with that
// secret exists already; HERALD_ADMIN_TOKEN bootstraps admin access this way.
func (s *Store) EnsureAPIKey(ctx context.Context, name string, role gateway.Role, secret string) error {
	if _, err := s.APIKeyBySecret(ctx, secret); err == nil {
		return nil
	}
	_, _, err := s.insertAPIKey(ctx, name, role, "config", secret)
	if gateway.ErrorCode(err) == gateway.ECONFLICT {
		// Replicas starting together: another one stored the same key
		// between the lookup and the insert.
		if _, kerr := s.APIKeyBySecret(ctx, secret); kerr == nil {
			return nil
		}
	}
	return err
}

func (s *Store) insertAPIKey(ctx context.Context, name string, role gateway.Role, by, secret string) (*gateway.APIKey, string, error) {
	k := &gateway.APIKey{ID: gateway.NewID(), Name: name, Role: role, Prefix: gateway.SecretPrefix(secret),
		Hash: gateway.HashSecret(secret), CreatedAt: s.now()}
	_, err := s.wdb.ExecContext(ctx, s.q.InsertAPIKey, k.ID, k.Name, k.Role, k.Hash, k.Prefix, by, k.CreatedAt)
	if err != nil {
		return nil, "", conflictName(wrap("insert api key", err), "key", name)
	}
	return k, secret, nil
}

// APIKeyBySecret finds the live key whose hash matches secret: EUNAUTHORIZED
// when none does. The lookup is by hash (an index probe), and the final
// comparison is constant-time.
func (s *Store) APIKeyBySecret(ctx context.Context, secret string) (*gateway.APIKey, error) {
	var k gateway.APIKey
	err := s.db.GetContext(ctx, &k, s.q.APIKeyByHash, gateway.HashSecret(secret))
	if errors.Is(err, sql.ErrNoRows) || err == nil && !gateway.SecretMatches(secret, k.Hash) {
		return nil, gateway.Errorf(gateway.EUNAUTHORIZED, "Invalid API key.")
	}
	if err != nil {
		return nil, wrap("api key by hash", err)
	}
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
	err := s.db.GetContext(ctx, &n, s.q.CountAPIKeys)
	return n, wrap("count api keys", err)
}

// APIKeys lists live keys (without secrets).
func (s *Store) APIKeys(ctx context.Context) ([]gateway.APIKey, error) {
	var out []gateway.APIKey
	err := s.db.SelectContext(ctx, &out, s.q.ListAPIKeys)
	return out, wrap("list api keys", err)
}

// RevokeAPIKey stops a key (by id or name) from working at once.
func (s *Store) RevokeAPIKey(ctx context.Context, idOrName string) error {
	res, err := s.wdb.ExecContext(ctx, s.q.RevokeAPIKey, s.now(), idOrName, idOrName)
	if err != nil {
		return wrap("revoke api key", err)
	}
	return mustAffect(res, "API key", idOrName)
}

// Audit appends an entry to the audit log.
func (s *Store) Audit(ctx context.Context, who gateway.Principal, action, targetType, targetID string, detail map[string]any) error {
	return s.audit(ctx, s.wdb, who, action, targetType, targetID, detail)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) audit(ctx context.Context, db execer, who gateway.Principal, action, targetType, targetID string, detail map[string]any) error {
	d, err := json.Marshal(detail)
	if err != nil {
		return wrap("audit detail", err)
	}
	if detail == nil {
		d = []byte("{}")
	}
	_, err = db.ExecContext(ctx, s.q.InsertAuditLog, s.now(), who.Name, who.Kind, action, targetType, targetID, string(d))
	return wrap("insert audit log", err)
}

// AuditQuery selects audit entries: those older than the entry id Before
// (0 for the newest), by Actor (a person's or key's name, any case) and by
// Action (exact, or every action under a prefix that ends in ".", such as
// "subscriber.").
type AuditQuery struct {
	Before        int64
	Actor, Action string
}

// AuditLog lists the entries q selects, newest first, at most limit. The
// filters are in the query, so a filtered page costs what an unfiltered
// one does.
func (s *Store) AuditLog(ctx context.Context, q AuditQuery, limit int) ([]gateway.AuditEntry, error) {
	var rows []struct {
		gateway.AuditEntry
		Detail string
	}
	a := q.Action
	if err := s.db.SelectContext(ctx, &rows, s.q.ListAuditLog, q.Before, q.Before, q.Actor, q.Actor,
		a, a, a, a, a, a, limit); err != nil {
		return nil, wrap("list audit log", err)
	}
	out := make([]gateway.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = r.AuditEntry
		_ = json.Unmarshal([]byte(r.Detail), &out[i].Detail)
	}
	return out, nil
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
