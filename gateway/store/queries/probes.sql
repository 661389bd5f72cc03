-- Probes: checks Herald runs itself. A probe's row is also its timer
-- (next_run_at, claimed with a lease like timers and deliveries).

-- name: list-probes
SELECT id, name, kind, COALESCE(component_id, '') AS component_id, COALESCE(rule_id, '') AS rule_id,
       spec, origin, created_at, updated_at
FROM probes ORDER BY name;

-- name: get-probe
SELECT id, name, kind, COALESCE(component_id, '') AS component_id, COALESCE(rule_id, '') AS rule_id,
       spec, origin, created_at, updated_at
FROM probes WHERE id = ? OR name = ? LIMIT 1;

-- name: insert-probe
INSERT INTO probes (id, name, kind, component_id, rule_id, spec, origin, next_run_at, created_at, updated_at)
VALUES (?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), ?, ?, ?, ?, ?);

-- A changed probe runs again at once, with its counters from scratch: its
-- old results say nothing about the new check.
-- name: update-probe
UPDATE probes SET name = ?, kind = ?, component_id = NULLIF(?, ''), rule_id = NULLIF(?, ''), spec = ?, origin = ?,
       next_run_at = ?, fails = 0, oks = 0, updated_at = ?
WHERE id = ?;

-- name: delete-probe
DELETE FROM probes WHERE id = ?;

-- name: claim-probes
UPDATE probes SET lease_until = ?, lease_owner = ?
WHERE id IN (
    SELECT id FROM probes
    WHERE next_run_at <= ? AND (lease_until IS NULL OR lease_until < ?)
    ORDER BY next_run_at LIMIT ?
)
RETURNING id, name, kind, COALESCE(component_id, '') AS component_id, COALESCE(rule_id, '') AS rule_id,
          spec, origin, created_at, updated_at, next_run_at, up, fails, oks, tls_warning;

-- Only the lease's owner finishes a run: a run that outlived its lease
-- (and was taken over) is not recorded twice.
-- name: finish-probe
UPDATE probes SET next_run_at = ?, lease_until = NULL, lease_owner = NULL, up = ?, fails = ?, oks = ?, tls_warning = ?
WHERE id = ? AND lease_owner = ? AND next_run_at = ?;

-- name: insert-probe-result
INSERT INTO probe_results (probe_id, at, ok, duration_ms, message) VALUES (?, ?, ?, ?, ?);

-- Keeps a probe's results bounded: the newest N, none older than a cutoff.
-- name: trim-probe-results
DELETE FROM probe_results WHERE probe_id = ? AND (at < ? OR id <= (
    SELECT id FROM probe_results WHERE probe_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?
));

-- name: list-probe-results
SELECT at, ok, duration_ms, message FROM probe_results WHERE probe_id = ? AND at >= ? ORDER BY id DESC LIMIT ?;

-- name: probe-states
SELECT id, up FROM probes;

-- The source probe alerts are stored under. Its token hash is no hash of
-- any token, so nothing can post to /ingest/probe.
-- name: ensure-probe-source
INSERT INTO sources (id, name, kind, token_hash, token_prefix, rate_limit, origin, created_at, updated_at)
VALUES (?, 'probe', 'probe', 'none: alerts of the built-in probes', '', 0, 'api', ?, ?)
ON CONFLICT (name) DO NOTHING;

-- name: probe-uptime
SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN ok THEN 1 ELSE 0 END), 0) AS good
FROM probe_results WHERE probe_id = ? AND at >= ?;

-- Firing probe alerts that no probe will resolve any more: their probe was
-- deleted or renamed, or (a certificate warning) is no longer an http probe.
-- name: orphan-probe-alerts
SELECT a.fingerprint FROM alerts a
WHERE a.source_id = ? AND a.status = 'firing'
  AND NOT EXISTS (
    SELECT 1 FROM probes p
    WHERE a.fingerprint = 'probe:' || p.name
       OR (p.kind = 'http' AND a.fingerprint = 'probe:' || p.name || ':tls_expiry')
  );
