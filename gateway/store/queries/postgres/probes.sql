-- PostgreSQL claims with SKIP LOCKED, so replicas claiming at the same
-- moment take different probes instead of waiting on each other.

-- name: claim-probes
UPDATE probes SET lease_until = ?, lease_owner = ?
WHERE id IN (
    SELECT id FROM probes
    WHERE next_run_at <= ? AND (lease_until IS NULL OR lease_until < ?)
    ORDER BY next_run_at LIMIT ?
    FOR UPDATE SKIP LOCKED
)
RETURNING id, name, kind, COALESCE(component_id, '') AS component_id, COALESCE(rule_id, '') AS rule_id,
          spec, origin, created_at, updated_at, next_run_at, up, fails, oks, tls_warning;
