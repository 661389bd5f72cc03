package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func TestUsersAndSessions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ann := &store.User{Email: " Ann@Example.com ", Name: "Ann Example", Role: gateway.RoleSupport, PasswordHash: "h1"}
		must(t, s.CreateUser(ctx, ann))
		if ann.Email != "ann@example.com" || ann.ID == "" {
			t.Errorf("created %+v; want a normalized email and an id", ann)
		}
		for _, bad := range []*store.User{
			{Email: "ANN@example.com", Name: "Again", Role: gateway.RoleViewer},
			{Email: "not an address", Name: "X", Role: gateway.RoleViewer},
			{Email: "bob@example.com", Name: "Bob", Role: "owner"},
		} {
			if err := s.CreateUser(ctx, bad); err == nil {
				t.Errorf("CreateUser(%+v) succeeded", bad)
			}
		}
		if err := s.CreateUser(ctx, &store.User{Email: "ann@example.com", Name: "A", Role: gateway.RoleViewer}); gateway.ErrorCode(err) != gateway.ECONFLICT {
			t.Errorf("duplicate email err = %v, want ECONFLICT", err)
		}
		got, err := s.UserByEmail(ctx, "ANN@example.com")
		if err != nil || got.ID != ann.ID || got.PasswordHash != "h1" || got.Disabled() {
			t.Fatalf("UserByEmail = %+v, %v", got, err)
		}
		if _, err := s.UserByEmail(ctx, "nobody@example.com"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("unknown user err = %v, want ENOTFOUND", err)
		}

		now := time.Now().UTC()
		userSession := &store.Session{IDHash: "hash-u", UserID: ann.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
		must(t, s.CreateSession(ctx, userSession))
		se, err := s.SessionByHash(ctx, "hash-u")
		if err != nil || se.Name != "Ann Example" || se.Role != gateway.RoleSupport || se.Email != "ann@example.com" || se.APIKeyID != "" {
			t.Fatalf("SessionByHash = %+v, %v", se, err)
		}
		if !se.ExpiresAt.Equal(now.Add(time.Hour).Truncate(time.Microsecond)) {
			t.Errorf("expires_at = %v, want %v", se.ExpiresAt, now.Add(time.Hour))
		}
		later := now.Add(time.Minute)
		must(t, s.TouchSession(ctx, "hash-u", later))
		if se, err := s.SessionByHash(ctx, "hash-u"); err != nil {
			t.Fatal(err)
		} else if !se.LastSeenAt.Equal(later.Truncate(time.Microsecond)) {
			t.Errorf("last_seen_at = %v, want %v", se.LastSeenAt, later)
		}

		key, _, err := s.CreateAPIKey(ctx, "oncall-bot", gateway.RoleViewer, "test")
		must(t, err)
		must(t, s.CreateSession(ctx, &store.Session{IDHash: "hash-k", APIKeyID: key.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}))
		if se, err := s.SessionByHash(ctx, "hash-k"); err != nil || se.Name != "oncall-bot" || se.Role != gateway.RoleViewer {
			t.Errorf("key session = %+v, %v", se, err)
		}
		if err := s.CreateSession(ctx, &store.Session{IDHash: "both", UserID: ann.ID, APIKeyID: key.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now}); err == nil {
			t.Error("a session of a user and a key was stored")
		}

		// A password reset and a disabled account end their sessions; a
		// revoked key's sessions stop matching.
		must(t, s.SetUserPassword(ctx, ann.Email, "h2"))
		if _, err := s.SessionByHash(ctx, "hash-u"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("session after password reset: %v, want ENOTFOUND", err)
		}
		must(t, s.CreateSession(ctx, &store.Session{IDHash: "hash-u2", UserID: ann.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}))
		must(t, s.DisableUser(ctx, ann.ID))
		if _, err := s.SessionByHash(ctx, "hash-u2"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("session of a disabled user: %v, want ENOTFOUND", err)
		}
		if err := s.DisableUser(ctx, ann.ID); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("disabling twice: %v, want ENOTFOUND", err)
		}
		if u, err := s.UserByEmail(ctx, ann.Email); err != nil {
			t.Fatal(err)
		} else if !u.Disabled() || u.PasswordHash != "h2" {
			t.Errorf("after disable and reset: %+v", u)
		}
		must(t, s.RevokeAPIKey(ctx, key.ID))
		if _, err := s.SessionByHash(ctx, "hash-k"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("session of a revoked key: %v, want ENOTFOUND", err)
		}

		// Sweeping: absolute expiry and idleness.
		bob := &store.User{Email: "bob@example.com", Name: "Bob", Role: gateway.RoleViewer}
		must(t, s.CreateUser(ctx, bob))
		must(t, s.CreateSession(ctx, &store.Session{IDHash: "old", UserID: bob.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(-time.Second)}))
		must(t, s.CreateSession(ctx, &store.Session{IDHash: "idle", UserID: bob.ID, CreatedAt: now, LastSeenAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(time.Hour)}))
		must(t, s.CreateSession(ctx, &store.Session{IDHash: "live", UserID: bob.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}))
		n, err := s.DeleteExpiredSessions(ctx, now, now.Add(-time.Hour))
		if err != nil || n < 2 {
			t.Errorf("DeleteExpiredSessions = %d, %v; want at least the 2 expired", n, err)
		}
		if _, err := s.SessionByHash(ctx, "live"); err != nil {
			t.Errorf("live session swept: %v", err)
		}
		must(t, s.DeleteSession(ctx, "live"))
		if _, err := s.SessionByHash(ctx, "live"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("deleted session: %v", err)
		}
		users, err := s.Users(ctx)
		if err != nil || len(users) != 2 || users[0].Email != "ann@example.com" {
			t.Errorf("Users = %+v, %v", users, err)
		}
	})
}
