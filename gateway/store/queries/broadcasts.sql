-- Events of one type, as the support console lists them (past
-- broadcasts). The columns are get-event's.

-- name: events-of-type
SELECT id, type, COALESCE(incident_id, '') AS incident_id, COALESCE(incident_update_id, '') AS incident_update_id,
       COALESCE(component_id, '') AS component_id, COALESCE(subscriber_id, '') AS subscriber_id,
       all_subscribers, notify, payload, COALESCE(idempotency_key, '') AS idempotency_key, actor, created_at, planned_at
FROM events WHERE type = ? ORDER BY created_at DESC, id DESC LIMIT ?;
