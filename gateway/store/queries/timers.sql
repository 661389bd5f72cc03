-- Persisted timers: rows with a due time, claimed with a lease like
-- deliveries, so each fires once whichever replica claims it.

-- name: set-timer
INSERT INTO timers (kind, ref_id, due_at, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT (kind, ref_id) DO UPDATE SET due_at = excluded.due_at, lease_until = NULL, lease_owner = NULL;

-- name: set-timer-earlier
INSERT INTO timers (kind, ref_id, due_at, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT (kind, ref_id) DO UPDATE SET due_at = excluded.due_at
WHERE excluded.due_at < timers.due_at;

-- name: delete-timer
DELETE FROM timers WHERE kind = ? AND ref_id = ?;

-- name: get-timer
SELECT id, kind, ref_id, due_at FROM timers WHERE kind = ? AND ref_id = ?;

-- name: claim-timers
UPDATE timers SET lease_until = ?, lease_owner = ?
WHERE id IN (
    SELECT id FROM timers
    WHERE due_at <= ? AND (lease_until IS NULL OR lease_until < ?)
    ORDER BY due_at LIMIT ?
)
RETURNING id, kind, ref_id, due_at;

-- name: fire-timer
DELETE FROM timers WHERE id = ? AND lease_owner = ? AND due_at = ?;

-- name: release-timer
UPDATE timers SET lease_until = NULL, lease_owner = NULL WHERE id = ? AND lease_owner = ?;
