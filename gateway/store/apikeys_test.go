package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/migrations"
)

// A key's whole life: listed with at most 4 characters of it, revoked at
// once (the lookup reads the database, so every replica agrees), expired
// by the clock, its name free again after a revoke; the list keeps every
// key. Sessions of a revoked or expired key end too.
func TestAPIKeyLifecycle(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) { testAPIKeyLifecycle(t, d) })
	}
}

func testAPIKeyLifecycle(t *testing.T, dialect string) {
	url := storetest.URL(t, dialect)
	s, replica := storetest.OpenURL(t, url), storetest.OpenURL(t, url)
	ctx := context.Background()
	now := time.Now().UTC()
	s.Now = func() time.Time { return now }
	ci, ciSecret, err := s.CreateAPIKeyUntil(ctx, "ci", gateway.RoleSupport, "test", now.Add(time.Hour))
	must(t, err)
	if _, _, err := s.CreateAPIKeyUntil(ctx, "old", gateway.RoleViewer, "test", now.Add(-time.Second)); gateway.ErrorCode(err) != gateway.EUNPROCESSABLE {
		t.Errorf("a key expiring in the past: %v, want unprocessable", err)
	}
	ops, opsSecret, err := s.CreateAPIKey(ctx, "ops", gateway.RoleAdmin, "test")
	must(t, err)
	keys, err := s.APIKeys(ctx)
	must(t, err)
	if len(keys) != 2 {
		t.Fatalf("APIKeys = %+v, want 2", keys)
	}
	for _, k := range keys {
		if len(k.Prefix) > 4 || k.Hash != "" {
			t.Errorf("listed %+v: want a prefix of at most 4 characters and no hash", k)
		}
	}
	if ci.Prefix != ciSecret[5:9] {
		t.Errorf("prefix %q of %q: want the 4 characters after hrld_", ci.Prefix, ciSecret)
	}

	// A second process (a replica) on the same database sees the revoke
	// at its next lookup.
	must(t, s.CreateSession(ctx, &store.Session{IDHash: "sess-ops", APIKeyID: ops.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}))
	if _, err := replica.APIKeyBySecret(ctx, opsSecret); err != nil {
		t.Fatalf("before the revoke: %v", err)
	}
	must(t, s.RevokeAPIKey(ctx, ops.ID))
	if _, err := replica.APIKeyBySecret(ctx, opsSecret); gateway.ErrorCode(err) != gateway.EUNAUTHORIZED {
		t.Errorf("the replica still takes the revoked key: %v", err)
	}
	if _, err := s.SessionByHash(ctx, "sess-ops"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("the revoked key's console session lives on: %v", err)
	}
	if err := s.RevokeAPIKey(ctx, ops.ID); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("revoking twice: %v, want not found", err)
	}
	if _, _, err := s.CreateAPIKey(ctx, "ops", gateway.RoleAdmin, "test"); err != nil {
		t.Errorf("the revoked key's name is not free again: %v", err)
	}

	// Expiry needs no job: the lookup compares with the clock.
	must(t, s.CreateSession(ctx, &store.Session{IDHash: "sess-ci", APIKeyID: ci.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(2 * time.Hour)}))
	if _, err := s.APIKeyBySecret(ctx, ciSecret); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	now = now.Add(time.Hour + time.Second)
	if _, err := s.APIKeyBySecret(ctx, ciSecret); gateway.ErrorCode(err) != gateway.EUNAUTHORIZED {
		t.Errorf("an expired key still works: %v", err)
	}
	if _, err := s.SessionByHash(ctx, "sess-ci"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("the expired key's console session lives on: %v", err)
	}
	keys, err = s.APIKeys(ctx)
	must(t, err)
	if len(keys) != 3 {
		t.Errorf("the list keeps %d keys, want 3 (revoked and expired ones too)", len(keys))
	}
	for _, k := range keys {
		if k.ID == ops.ID && k.RevokedAt.IsZero() || k.ID == ci.ID && k.ExpiresAt.IsZero() {
			t.Errorf("listed %+v without its revoke or expiry", k)
		}
	}
}

// Changing the bootstrap secret rotates the key (the old one revoked);
// a revoked secret never comes back through it.
func TestEnsureAPIKeyRotates(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const first, second = "first-admin-token-0123456789abcdef", "second-admin-token-0123456789abcdef"
		rotated, err := s.EnsureAPIKey(ctx, "boot", gateway.RoleAdmin, first)
		must(t, err)
		if rotated {
			t.Error("the first key reported a rotation")
		}
		if rotated, err = s.EnsureAPIKey(ctx, "boot", gateway.RoleAdmin, first); err != nil || rotated {
			t.Errorf("the same secret again: %v, %v; want nothing to do", rotated, err)
		}
		if rotated, err = s.EnsureAPIKey(ctx, "boot", gateway.RoleAdmin, second); err != nil || !rotated {
			t.Fatalf("a new secret: %v, %v; want a rotation", rotated, err)
		}
		if _, err := s.APIKeyBySecret(ctx, first); gateway.ErrorCode(err) != gateway.EUNAUTHORIZED {
			t.Errorf("the old bootstrap key still works: %v", err)
		}
		if k, err := s.APIKeyBySecret(ctx, second); err != nil || k.Name != "boot" || k.Role != gateway.RoleAdmin {
			t.Errorf("the new bootstrap key: %+v, %v", k, err)
		}
		if _, err := s.EnsureAPIKey(ctx, "boot", gateway.RoleAdmin, first); gateway.ErrorCode(err) != gateway.ECONFLICT {
			t.Errorf("a revoked secret came back: %v, want conflict", err)
		}
		if _, err := s.APIKeyBySecret(ctx, first); gateway.ErrorCode(err) != gateway.EUNAUTHORIZED {
			t.Errorf("the revoked bootstrap key works again: %v", err)
		}
	})
}

// Migration 11 cuts the prefixes stored before it to at most 4
// characters: a whole short token (stored in clear as its "prefix")
// becomes nothing, and a Herald key keeps 4 characters after its marker.
func TestMigrationCutsStoredPrefixes(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, storetest.URL(t, d), storetest.Logger(t))
			must(t, err)
			t.Cleanup(func() { s.Close() })
			fsys, err := migrations.FS(string(s.Dialect()))
			must(t, err)
			dialect := goose.DialectSQLite3
			if s.Dialect() == store.Postgres {
				dialect = goose.DialectPostgres
			}
			p, err := goose.NewProvider(dialect, s.DB(), fsys, goose.WithGoMigrations(migrations.Go(string(s.Dialect()))...))
			must(t, err)
			_, err = p.UpTo(ctx, 10)
			must(t, err)
			q := func(query string, args ...any) {
				t.Helper()
				_, err := s.DB().ExecContext(ctx, storetest.Rebind(s, query), args...)
				must(t, err)
			}
			now := time.Now().UTC()
			for id, prefix := range map[string]string{"k1": "hrld_abcd", "k2": "short", "k3": "Prom-Toke"} {
				q("INSERT INTO api_keys (id, name, role, key_hash, prefix, created_at) VALUES (?, ?, 'admin', ?, ?, ?)", id, id, id, prefix, now)
			}
			for id, prefix := range map[string]string{"s1": "hsrc_wxyz", "s2": "abc"} {
				q("INSERT INTO sources (id, name, kind, token_hash, token_prefix, created_at, updated_at) VALUES (?, ?, 'generic', ?, ?, ?, ?)", id, id, id, prefix, now, now)
			}
			_, err = p.Up(ctx)
			must(t, err)
			for query, want := range map[string]string{
				"SELECT prefix FROM api_keys WHERE id = 'k1'":            "abcd",
				"SELECT prefix FROM api_keys WHERE id = 'k2'":            "",
				"SELECT prefix FROM api_keys WHERE id = 'k3'":            "Prom",
				"SELECT token_prefix FROM sources WHERE id = 's1'":       "wxyz",
				"SELECT token_prefix FROM sources WHERE id = 's2'":       "",
				"SELECT COUNT(*) FROM api_keys WHERE expires_at IS NULL": "3",
			} {
				var got string
				must(t, s.DB().QueryRowContext(ctx, query).Scan(&got))
				if got != want {
					t.Errorf("%s = %q, want %q", query, got, want)
				}
			}
		})
	}
}
