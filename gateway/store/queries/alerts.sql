-- Alerts: ingest's batched upserts and the admin API's lists.
--
-- Blocks marked "bulk" are written for one row; the store repeats their
-- VALUES tuple, or their IN (?) list, once per row (see bulk in alerts.go),
-- so that one round trip writes or reads a whole request's alerts.

-- name: lock-alerts
-- bulk: IN (?) repeats per fingerprint; the source id follows. Every
-- fingerprint is a probe of the unique index, in fingerprint order, so
-- that concurrent requests meet their rows in the same order.
-- queries/postgres/alerts.sql also locks the rows (SQLite's writer
-- already holds the only write lock). (SQLite 3.54 plans a join with a
-- VALUES list, as PostgreSQL's version is written, as a scan of all the
-- source's alerts.)
SELECT id, fingerprint, status, severity, summary, labels, annotations, generator_url,
       starts_at, ends_at, received_at, last_seen_at, COALESCE(rule_id, '') AS rule_id,
       COALESCE(incident_id, '') AS incident_id, flapping, state_changes, state_changes_since
FROM alerts WHERE fingerprint IN (?) AND source_id = ?
ORDER BY fingerprint;

-- name: alert-components-of
-- bulk: IN (?) repeats per alert id.
SELECT alert_id, component_id, status FROM alert_components
WHERE alert_id IN (?) ORDER BY alert_id, component_id;

-- name: insert-alerts
-- bulk. A row another request inserted first is skipped and missing from
-- RETURNING, which tells the store to retry the request's transaction.
INSERT INTO alerts (source_id, fingerprint, status, severity, summary, labels, annotations, generator_url, raw,
                    starts_at, ends_at, received_at, last_seen_at, rule_id, state_changes, state_changes_since)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''), ?, ?)
ON CONFLICT (source_id, fingerprint) DO NOTHING
RETURNING id, fingerprint;

-- name: update-alerts
-- bulk: a multi-row update of rows the transaction has read (and, on
-- PostgreSQL, locked), written as an upsert because that is the one
-- multi-row update both dialects spell alike. It leaves alone what other
-- stages own (flapping, and incident_id, except that an alert that fires
-- again leaves the incident of its last episode: a firing episode is what
-- correlation places) and what never changes (received_at); an empty raw
-- keeps the stored one (the read leaves raw out: it is large).
INSERT INTO alerts (id, source_id, fingerprint, status, severity, summary, labels, annotations, generator_url, raw,
                    starts_at, ends_at, received_at, last_seen_at, rule_id, state_changes, state_changes_since)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''), ?, ?)
ON CONFLICT (id) DO UPDATE SET
    status = excluded.status, severity = excluded.severity, summary = excluded.summary,
    labels = excluded.labels, annotations = excluded.annotations, generator_url = excluded.generator_url,
    raw = CASE WHEN excluded.raw = '' THEN alerts.raw ELSE excluded.raw END, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
    last_seen_at = excluded.last_seen_at, rule_id = excluded.rule_id,
    incident_id = CASE WHEN alerts.status = 'resolved' AND excluded.status = 'firing' THEN NULL ELSE alerts.incident_id END,
    state_changes = excluded.state_changes, state_changes_since = excluded.state_changes_since;

-- name: delete-alert-components
-- bulk: IN (?) repeats per alert id.
DELETE FROM alert_components WHERE alert_id IN (?);

-- name: insert-alert-components
-- bulk.
INSERT INTO alert_components (alert_id, component_id, status) VALUES (?, ?, ?);

-- name: touch-source-last-alert
-- At most one write a second per source: under load, concurrent requests
-- of one source would otherwise queue on its row.
UPDATE sources SET last_alert_at = ? WHERE id = ? AND (last_alert_at IS NULL OR last_alert_at < ?);

-- name: list-alerts
-- Filters are optional ('' or 0 matches everything); the cursor is the
-- last id of the previous page, newest first.
SELECT a.id, a.source_id, s.name AS source_name, a.fingerprint, a.status, a.severity, a.summary,
       a.labels, a.annotations, a.generator_url, a.starts_at, a.ends_at, a.received_at, a.last_seen_at,
       COALESCE(a.rule_id, '') AS rule_id, COALESCE(a.incident_id, '') AS incident_id,
       a.flapping, a.state_changes, a.state_changes_since
FROM alerts a JOIN sources s ON s.id = a.source_id
WHERE (? = '' OR a.status = ?)
  AND (? = '' OR a.source_id = ?)
  AND (? = '' OR a.fingerprint = ?)
  AND (? = '' OR EXISTS (SELECT 1 FROM alert_components ac WHERE ac.alert_id = a.id AND ac.component_id = ?))
  AND (CAST(? AS BIGINT) = 0 OR a.id < ?)
ORDER BY a.id DESC
LIMIT ?;

-- name: get-alert
SELECT a.id, a.source_id, s.name AS source_name, a.fingerprint, a.status, a.severity, a.summary,
       a.labels, a.annotations, a.generator_url, a.raw, a.starts_at, a.ends_at, a.received_at, a.last_seen_at,
       COALESCE(a.rule_id, '') AS rule_id, COALESCE(a.incident_id, '') AS incident_id,
       a.flapping, a.state_changes, a.state_changes_since
FROM alerts a JOIN sources s ON s.id = a.source_id
WHERE a.id = ?;

-- name: insert-new-alerts
-- PostgreSQL only (see its override): SQLite has no data-modifying WITH,
-- and a transaction in process costs it no round trips, so it always takes
-- the transactional path. This block only keeps the name defined there and
-- is never run.
SELECT 0 AS id, '' AS fingerprint WHERE ? IS NULL AND ? IS NULL AND ? IS NULL AND ? IS NULL;
