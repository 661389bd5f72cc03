-- PostgreSQL's versions of blocks in ../alerts.sql.

-- name: lock-alerts
-- bulk: the VALUES tuple repeats per fingerprint; the source id follows.
-- The LATERAL subquery (kept one by OFFSET 0) makes every fingerprint a
-- probe of the unique index whatever the planner's statistics say: on a
-- young table without them, a plain IN list was planned as a scan of all
-- the source's alerts. FOR UPDATE holds the rows until commit, so that
-- concurrent requests for one alert merge one after the other, and the
-- order by fingerprint makes them lock in the same order (no deadlocks).
SELECT a.id, a.fingerprint, a.status, a.severity, a.summary, a.labels, a.annotations, a.generator_url,
       a.starts_at, a.ends_at, a.received_at, a.last_seen_at, a.rule_id, a.incident_id,
       a.flapping, a.state_changes, a.state_changes_since
FROM (VALUES (?)) AS v,
     LATERAL (SELECT id, fingerprint, status, severity, summary, labels, annotations, generator_url,
                     starts_at, ends_at, received_at, last_seen_at, COALESCE(rule_id, '') AS rule_id,
                     COALESCE(incident_id, '') AS incident_id, flapping, state_changes, state_changes_since
              FROM alerts WHERE source_id = ? AND fingerprint = v.column1 OFFSET 0) AS a
ORDER BY a.fingerprint
FOR UPDATE OF a;

-- name: insert-new-alerts
-- A request whose alerts are all new, in one statement that commits on its
-- own: one round trip where the transaction of lock-alerts, insert-alerts
-- and insert-alert-components takes five. Arguments: the alerts and their
-- components as JSON arrays (components name their alert by fingerprint),
-- and the source id twice. It writes all of them or nothing: nothing, and
-- no row back, when one of the fingerprints is stored already (the store
-- then takes the transactional path, which merges), and an error that
-- writes nothing when a concurrent request inserts one first (the unique
-- index). The probe of each fingerprint is written as lock-alerts' is.
WITH v AS (
    SELECT * FROM json_to_recordset(CAST(? AS json)) AS v(fingerprint TEXT, status TEXT, severity TEXT, summary TEXT,
        labels TEXT, annotations TEXT, generator_url TEXT, raw TEXT, starts_at TIMESTAMPTZ, ends_at TIMESTAMPTZ,
        received_at TIMESTAMPTZ, last_seen_at TIMESTAMPTZ, rule_id TEXT, state_changes INTEGER,
        state_changes_since TIMESTAMPTZ)
), inserted AS (
    INSERT INTO alerts (source_id, fingerprint, status, severity, summary, labels, annotations, generator_url, raw,
                        starts_at, ends_at, received_at, last_seen_at, rule_id, state_changes, state_changes_since)
    SELECT CAST(? AS TEXT), fingerprint, status, severity, summary, labels, annotations, generator_url, raw,
           starts_at, ends_at, received_at, last_seen_at, NULLIF(rule_id, ''), state_changes, state_changes_since
    FROM v
    WHERE NOT EXISTS (
        SELECT 1 FROM v AS w,
            LATERAL (SELECT 1 FROM alerts WHERE source_id = ? AND fingerprint = w.fingerprint OFFSET 0) AS a)
    ORDER BY fingerprint
    RETURNING id, fingerprint
), linked AS (
    INSERT INTO alert_components (alert_id, component_id, status)
    SELECT i.id, c.component_id, c.status
    FROM inserted AS i
    JOIN json_to_recordset(CAST(? AS json)) AS c(fingerprint TEXT, component_id TEXT, status TEXT)
      ON c.fingerprint = i.fingerprint
)
SELECT id, fingerprint FROM inserted;
