-- API keys, the audit log and settings.

-- name: insert-api-key
INSERT INTO api_keys (id, name, role, key_hash, prefix, created_by, created_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?);

-- Keys are checked here at every request, with no cache in any replica:
-- a revoke or an expiry takes effect on the next request everywhere.
-- name: api-key-by-hash
SELECT id, name, role, key_hash AS hash, prefix, created_at, expires_at
FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?);

-- name: touch-api-key
UPDATE api_keys SET last_used_at = ? WHERE id = ?;

-- name: count-api-keys
SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?);

-- Every key, revoked and expired ones too: the list is the record of who
-- had access.
-- name: list-api-keys
SELECT id, name, role, prefix, created_by, created_at, last_used_at, expires_at, revoked_at
FROM api_keys ORDER BY created_at DESC, id;

-- name: revoke-api-key
UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL;

-- A revoked key's name is free again: it is renamed with its id, so a key
-- (the bootstrap key too) can be replaced under the same name.
-- name: retire-api-key-name
UPDATE api_keys SET name = name || ' (revoked ' || id || ')' WHERE id = ?;

-- name: live-api-key-by-name
SELECT id FROM api_keys WHERE name = ? AND revoked_at IS NULL;

-- name: api-key-state-by-hash
SELECT id, revoked_at, expires_at FROM api_keys WHERE key_hash = ?;

-- name: insert-audit-log
INSERT INTO audit_log (at, actor, actor_kind, action, target_type, target_id, detail)
VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: list-audit-log
-- actor matches case-insensitively; an action ending in "." matches every
-- action under it ("subscriber." finds subscriber.erase and the rest).
SELECT id, at, actor, actor_kind, action, target_type, target_id, detail
FROM audit_log
WHERE (? = 0 OR id < ?)
  AND (? = '' OR lower(actor) = lower(?))
  AND (? = '' OR action = ? OR (substr(?, length(?), 1) = '.' AND substr(action, 1, length(?)) = ?))
ORDER BY id DESC LIMIT ?;

-- name: upsert-setting
INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;

-- name: get-setting
SELECT value FROM settings WHERE key = ?;
