package store

import (
	"context"
	"database/sql"
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldstatus/herald/gateway"
)

// userQueries are the statements of queries/users.sql: console accounts
// and their sessions.
type userQueries struct {
	InsertUser            string `query:"insert-user"`
	UserByEmail           string `query:"user-by-email"`
	ListUsers             string `query:"list-users"`
	DisableUser           string `query:"disable-user"`
	SetUserPassword       string `query:"set-user-password"`
	RecordUserLogin       string `query:"record-user-login"`
	DeleteUserSessions    string `query:"delete-user-sessions"`
	InsertSession         string `query:"insert-session"`
	SessionByHash         string `query:"session-by-hash"`
	TouchSession          string `query:"touch-session"`
	DeleteSession         string `query:"delete-session"`
	DeleteExpiredSessions string `query:"delete-expired-sessions"`
}

// User is a support console account. PasswordHash is an encoded KDF hash
// (see gateway/console's password.go); the store never sees a password.
type User struct {
	ID           string       `db:"id"`
	Email        string       `db:"email"`
	Name         string       `db:"name"`
	Role         gateway.Role `db:"role"`
	PasswordHash string       `db:"password_hash"`
	CreatedAt    time.Time    `db:"created_at"`
	UpdatedAt    time.Time    `db:"updated_at"`
	LastLoginAt  optTime      `db:"last_login_at"`
	DisabledAt   optTime      `db:"disabled_at"`
}

// Disabled reports whether the account may no longer sign in.
func (u *User) Disabled() bool { return !u.DisabledAt.IsZero() }

// Session is a signed-in console session: of a user or of an API key.
// Only the hash of the cookie's secret is stored.
type Session struct {
	IDHash     string    `db:"id_hash"`
	UserID     string    `db:"user_id"`    // "" for an API-key session
	APIKeyID   string    `db:"api_key_id"` // "" for a user session
	CreatedAt  time.Time `db:"created_at"`
	LastSeenAt time.Time `db:"last_seen_at"`
	ExpiresAt  time.Time `db:"expires_at"` // the absolute expiry
	// Name, Role and Email are the user's (or the key's) as they are now.
	Name  string       `db:"name"`
	Role  gateway.Role `db:"role"`
	Email string       `db:"email"`
}

// NormalizeEmail is the stored form of a console user's email: trimmed
// and lowercased, so that sign-in ignores case.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser stores a new account; u.ID and the times are set here.
// EINVALID for a bad email, name or role; ECONFLICT when the email is taken.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	u.Email = NormalizeEmail(u.Email)
	if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
		return gateway.FieldError("email", "must be an email address")
	}
	if err := gateway.ValidateName("name", u.Name); err != nil {
		return err
	}
	if !u.Role.Valid() {
		return gateway.FieldError("role", "must be admin, support or viewer")
	}
	u.ID, u.CreatedAt = gateway.NewID(), s.now()
	u.UpdatedAt = u.CreatedAt
	_, err := s.wdb.ExecContext(ctx, s.q.InsertUser, u.ID, u.Email, u.Name, u.Role, u.PasswordHash, u.CreatedAt, u.UpdatedAt)
	if err = wrap("insert user", err); gateway.ErrorCode(err) == gateway.ECONFLICT {
		return &gateway.Error{Code: gateway.ECONFLICT, Message: "A user with the email " + quote(u.Email) + " already exists.",
			Fields: map[string]string{"email": "is taken"}, Err: err}
	}
	return err
}

// UserByEmail finds an account, disabled or not: ENOTFOUND when none.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	err := s.db.GetContext(ctx, &u, s.q.UserByEmail, NormalizeEmail(email))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("User", email)
	}
	if err != nil {
		return nil, wrap("user by email", err)
	}
	return &u, nil
}

// Users lists every account by email, disabled ones included.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	var out []User
	err := s.db.SelectContext(ctx, &out, s.q.ListUsers)
	return out, wrap("list users", err)
}

// DisableUser stops an account (by id or email) from signing in and ends
// its sessions, in one transaction. ENOTFOUND when no enabled account matches.
func (s *Store) DisableUser(ctx context.Context, idOrEmail string) error {
	return s.userChange(ctx, "disable user", idOrEmail, func(tx *sqlx.Tx, now time.Time) (sql.Result, error) {
		return tx.ExecContext(ctx, s.q.DisableUser, now, now, idOrEmail, NormalizeEmail(idOrEmail))
	})
}

// SetUserPassword replaces an account's password hash and ends its
// sessions, so that a reset locks out whoever knew the old password.
func (s *Store) SetUserPassword(ctx context.Context, idOrEmail, hash string) error {
	return s.userChange(ctx, "set user password", idOrEmail, func(tx *sqlx.Tx, now time.Time) (sql.Result, error) {
		return tx.ExecContext(ctx, s.q.SetUserPassword, hash, now, idOrEmail, NormalizeEmail(idOrEmail))
	})
}

// userChange runs change and then deletes the account's sessions.
func (s *Store) userChange(ctx context.Context, op, idOrEmail string, change func(*sqlx.Tx, time.Time) (sql.Result, error)) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error {
		res, err := change(tx, s.now())
		if err != nil {
			return wrap(op, err)
		}
		if err := mustAffect(res, "User", idOrEmail); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q.DeleteUserSessions, idOrEmail, NormalizeEmail(idOrEmail))
		return wrap("delete user sessions", err)
	})
}

// RecordLogin notes a successful sign-in.
func (s *Store) RecordLogin(ctx context.Context, userID string, at time.Time) error {
	_, err := s.wdb.ExecContext(ctx, s.q.RecordUserLogin, storedTime(at), userID)
	return wrap("record user login", err)
}

// CreateSession stores a session of exactly one of UserID and APIKeyID.
func (s *Store) CreateSession(ctx context.Context, se *Session) error {
	if (se.UserID == "") == (se.APIKeyID == "") {
		return gateway.Errorf(gateway.EINTERNAL, "store: a session belongs to a user or to an API key")
	}
	_, err := s.wdb.ExecContext(ctx, s.q.InsertSession, se.IDHash, nullString(se.UserID), nullString(se.APIKeyID),
		storedTime(se.CreatedAt), storedTime(se.LastSeenAt), storedTime(se.ExpiresAt))
	return wrap("insert session", err)
}

// SessionByHash finds a live session by the hash of its secret: ENOTFOUND
// when there is none, or when its user is disabled or its key revoked or
// past its expires_at. The session's own expiry is the caller's to judge
// (it owns the clock and the policy).
func (s *Store) SessionByHash(ctx context.Context, idHash string) (*Session, error) {
	var se Session
	err := s.db.GetContext(ctx, &se, s.q.SessionByHash, idHash, s.now())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gateway.Errorf(gateway.ENOTFOUND, "No such session.")
	}
	if err != nil {
		return nil, wrap("session by hash", err)
	}
	se.CreatedAt, se.LastSeenAt, se.ExpiresAt = se.CreatedAt.UTC(), se.LastSeenAt.UTC(), se.ExpiresAt.UTC()
	return &se, nil
}

// TouchSession records activity on a session (its idle expiry restarts).
func (s *Store) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	_, err := s.wdb.ExecContext(ctx, s.q.TouchSession, storedTime(at), idHash)
	return wrap("touch session", err)
}

// DeleteSession ends a session; ending one that is gone is no error.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	_, err := s.wdb.ExecContext(ctx, s.q.DeleteSession, idHash)
	return wrap("delete session", err)
}

// DeleteExpiredSessions removes sessions past their absolute expiry or
// idle since before idleSince, and says how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) (int64, error) {
	res, err := s.wdb.ExecContext(ctx, s.q.DeleteExpiredSessions, storedTime(now), storedTime(idleSince))
	if err != nil {
		return 0, wrap("delete expired sessions", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete expired sessions", err)
}

// nullString stores "" as NULL (the foreign keys of sessions).
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
