-- PostgreSQL claims with SKIP LOCKED, so replicas claiming at the same
-- moment take different rows instead of waiting on each other.

-- name: claim-timers
UPDATE timers SET lease_until = ?, lease_owner = ?
WHERE id IN (
    SELECT id FROM timers
    WHERE due_at <= ? AND (lease_until IS NULL OR lease_until < ?)
    ORDER BY due_at LIMIT ?
    FOR UPDATE SKIP LOCKED
)
RETURNING id, kind, ref_id, due_at;
