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
