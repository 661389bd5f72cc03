-- Persisted timers: rows with a due time, claimed with a lease like
-- deliveries, so each fires once whichever replica claims it.

-- name: set-timer
INSERT INTO timers (kind, ref_id, due_at, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT (kind, ref_id) DO UPDATE SET due_at = excluded.due_at, lease_until = NULL, lease_owner = NULL;

-- name: hold-timer
-- Scheduled already leased to its owner, so that no replica claims it at
-- its due time until the owner releases it or the lease ends.
INSERT INTO timers (kind, ref_id, due_at, created_at, lease_until, lease_owner) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (kind, ref_id) DO UPDATE SET due_at = excluded.due_at, lease_until = excluded.lease_until, lease_owner = excluded.lease_owner;

-- name: renew-timer
UPDATE timers SET lease_until = ? WHERE kind = ? AND ref_id = ? AND lease_owner = ?;

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
-- By kind and ref, not id: a held timer (hold-timer) is a new row of the
-- fired one's kind and ref.
UPDATE timers SET lease_until = NULL, lease_owner = NULL WHERE kind = ? AND ref_id = ? AND lease_owner = ?;
