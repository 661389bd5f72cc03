-- Console accounts (support staff) and their sign-in sessions.

-- name: insert-user
INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: user-by-email
SELECT id, email, name, role, password_hash, created_at, updated_at, last_login_at, disabled_at
FROM users WHERE email = ?;

-- name: list-users
SELECT id, email, name, role, password_hash, created_at, updated_at, last_login_at, disabled_at
FROM users ORDER BY email;

-- name: disable-user
UPDATE users SET disabled_at = ?, updated_at = ? WHERE (id = ? OR email = ?) AND disabled_at IS NULL;

-- name: set-user-password
UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? OR email = ?;

-- name: record-user-login
UPDATE users SET last_login_at = ? WHERE id = ?;

-- name: delete-user-sessions
DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE id = ? OR email = ?);

-- name: insert-session
INSERT INTO sessions (id_hash, user_id, api_key_id, created_at, last_seen_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?);

-- A session is live only while its user is enabled and its API key is not
-- revoked or expired: disabling either ends every session at its next request.
-- name: session-by-hash
SELECT s.id_hash, COALESCE(s.user_id, '') AS user_id, COALESCE(s.api_key_id, '') AS api_key_id,
       s.created_at, s.last_seen_at, s.expires_at,
       COALESCE(u.name, k.name) AS name, COALESCE(u.role, k.role) AS role, COALESCE(u.email, '') AS email
FROM sessions s
LEFT JOIN users u ON u.id = s.user_id
LEFT JOIN api_keys k ON k.id = s.api_key_id
WHERE s.id_hash = ? AND u.disabled_at IS NULL AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?)
  AND (u.id IS NOT NULL OR k.id IS NOT NULL);

-- name: touch-session
UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?;

-- name: delete-session
DELETE FROM sessions WHERE id_hash = ?;

-- name: delete-expired-sessions
DELETE FROM sessions WHERE expires_at < ? OR last_seen_at < ?;
