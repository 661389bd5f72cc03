-- Read-only views of an incident's history and of fan-outs in progress,
-- for the support console's incident screen and dashboard.

-- name: incident-alerts
-- The alerts that joined an incident, in the order they joined.
SELECT a.id, a.source_id, s.name AS source_name, a.fingerprint, a.status, a.severity, a.summary,
       a.labels, a.annotations, a.generator_url, a.starts_at, a.ends_at, a.received_at, a.last_seen_at,
       COALESCE(a.rule_id, '') AS rule_id, COALESCE(a.incident_id, '') AS incident_id,
       a.flapping, a.state_changes, a.state_changes_since, ia.joined_at
FROM incident_alerts ia
JOIN alerts a ON a.id = ia.alert_id
JOIN sources s ON s.id = a.source_id
WHERE ia.incident_id = ?
ORDER BY ia.joined_at, a.id
LIMIT ?;

-- name: incident-events
-- An incident's events, oldest first (events_incident index).
SELECT id, type, COALESCE(incident_id, '') AS incident_id, COALESCE(incident_update_id, '') AS incident_update_id,
       COALESCE(component_id, '') AS component_id, COALESCE(subscriber_id, '') AS subscriber_id,
       all_subscribers, notify, payload, COALESCE(idempotency_key, '') AS idempotency_key, actor, created_at, planned_at
FROM events WHERE incident_id = ?
ORDER BY created_at, id
LIMIT ?;

-- name: fanout-events
-- Events sent to many (not a single subscriber's confirmation or test)
-- since a time that still have deliveries to make, or were created after
-- a later time: what the dashboard shows as fan-outs in progress or just
-- done. Newest first; the EXISTS probes use deliveries_event_live.
SELECT id, type, COALESCE(incident_id, '') AS incident_id, COALESCE(incident_update_id, '') AS incident_update_id,
       COALESCE(component_id, '') AS component_id, COALESCE(subscriber_id, '') AS subscriber_id,
       all_subscribers, notify, payload, COALESCE(idempotency_key, '') AS idempotency_key, actor, created_at, planned_at
FROM events e
WHERE e.created_at >= ? AND e.subscriber_id IS NULL AND e.notify = TRUE
  AND (e.created_at >= ?
       OR EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status IN ('queued', 'retrying', 'sending')))
ORDER BY e.created_at DESC, e.id DESC
LIMIT ?;
