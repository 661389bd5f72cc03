-- Ingest sources and routing rules.

-- name: list-sources
SELECT id, name, kind, token_prefix, rate_limit, last_alert_at, token_rotated_at, origin, created_at, updated_at
FROM sources ORDER BY name;

-- name: get-source
SELECT id, name, kind, token_hash, token_prefix, rate_limit, last_alert_at, token_rotated_at, origin, created_at, updated_at
FROM sources WHERE id = ? OR name = ? LIMIT 1;

-- name: source-by-name
SELECT id, name, kind, token_hash, token_prefix, rate_limit, last_alert_at, token_rotated_at, origin, created_at, updated_at
FROM sources WHERE name = ?;

-- name: insert-source
INSERT INTO sources (id, name, kind, token_hash, token_prefix, rate_limit, origin, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: update-source-token
UPDATE sources SET token_hash = ?, token_prefix = ?, token_rotated_at = ?, updated_at = ? WHERE id = ?;

-- name: update-source
UPDATE sources SET kind = ?, rate_limit = ?, updated_at = ? WHERE id = ?;

-- name: list-rules
SELECT id, name, position, matchers, severity_status, origin, created_at FROM rules ORDER BY position, created_at;

-- name: insert-rule
INSERT INTO rules (id, name, position, matchers, severity_status, origin, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?);

-- name: update-rule
UPDATE rules SET name = ?, position = ?, matchers = ?, severity_status = ?, updated_at = ? WHERE id = ?;

-- name: delete-rule
DELETE FROM rules WHERE id = ?;

-- name: list-rule-components
SELECT rule_id, component_id FROM rule_components ORDER BY rule_id;

-- name: insert-rule-component
INSERT INTO rule_components (rule_id, component_id) VALUES (?, ?);

-- name: delete-rule-components
DELETE FROM rule_components WHERE rule_id = ?;

-- name: sync-update-source
UPDATE sources SET kind = ?, rate_limit = ?, origin = 'config', updated_at = ? WHERE id = ?;

-- name: source-by-token-hash
SELECT id, name, kind, token_hash, token_prefix, rate_limit, last_alert_at, token_rotated_at, origin, created_at, updated_at
FROM sources WHERE token_hash = ?;

-- name: delete-source
DELETE FROM sources WHERE id = ?;

-- name: next-rule-position
SELECT COALESCE(MAX(position) + 1, 0) FROM rules;

-- name: count-rule
SELECT COUNT(*) FROM rules WHERE id = ?;

-- name: source-alert-summaries
-- One row per source: how many alerts it has (and how many fire), and the
-- alert it sent last (by last_seen_at), for the console's sources screen.
-- The counts and the lookup use the (source_id, fingerprint) index.
SELECT s.id AS source_id,
       (SELECT COUNT(*) FROM alerts a WHERE a.source_id = s.id) AS alerts,
       (SELECT COUNT(*) FROM alerts a WHERE a.source_id = s.id AND a.status = 'firing') AS firing,
       l.last_seen_at, COALESCE(l.status, '') AS last_status, COALESCE(l.summary, '') AS last_summary
FROM sources s
LEFT JOIN alerts l ON l.id = (SELECT a.id FROM alerts a WHERE a.source_id = s.id
                              ORDER BY a.last_seen_at DESC, a.id DESC LIMIT 1)
ORDER BY s.name;
