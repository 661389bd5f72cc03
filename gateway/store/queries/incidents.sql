-- Incidents (and maintenances), their updates, their components, and the
-- component status history.

-- name: insert-incident
INSERT INTO incidents (id, kind, name, status, impact, automated, human_at, published, correlation_key,
                       last_alert_at, next_update_at, scheduled_for, scheduled_until, auto_transition,
                       created_by, created_at, updated_at, root_cause_id, root_cause_inferred)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''), ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''), ?);

-- name: get-incident
SELECT id, kind, name, status, impact, automated, human_at, published, COALESCE(correlation_key, '') AS correlation_key,
       last_alert_at, next_update_at, scheduled_for, scheduled_until, auto_transition, postmortem_body,
       postmortem_published_at, created_by, created_at, updated_at, monitoring_at, resolved_at,
       COALESCE(root_cause_id, '') AS root_cause_id, root_cause_inferred,
       COALESCE((SELECT name FROM components c WHERE c.id = root_cause_id), '') AS root_cause_name
FROM incidents WHERE id = ?;

-- name: list-incidents
SELECT id, kind, name, status, impact, automated, human_at, published, COALESCE(correlation_key, '') AS correlation_key,
       last_alert_at, next_update_at, scheduled_for, scheduled_until, auto_transition, postmortem_body,
       postmortem_published_at, created_by, created_at, updated_at, monitoring_at, resolved_at,
       COALESCE(root_cause_id, '') AS root_cause_id, root_cause_inferred,
       COALESCE((SELECT name FROM components c WHERE c.id = root_cause_id), '') AS root_cause_name
FROM incidents
WHERE kind = ?
  AND (? = '' OR (? = 'open' AND status NOT IN ('resolved', 'postmortem', 'completed'))
              OR (? = 'resolved' AND status IN ('resolved', 'postmortem', 'completed')))
  AND created_at < ?
ORDER BY created_at DESC, id DESC LIMIT ?;

-- name: correlating-incidents
SELECT id, correlation_key, last_alert_at, status, human_at, published, created_at, automated,
       COALESCE(root_cause_id, '') AS root_cause_id
FROM incidents WHERE correlation_key IS NOT NULL;

-- name: update-incident
UPDATE incidents SET name = ?, status = ?, impact = ?, human_at = ?, published = ?, correlation_key = NULLIF(?, ''),
       last_alert_at = ?, next_update_at = ?, scheduled_for = ?, scheduled_until = ?, auto_transition = ?,
       postmortem_body = ?, postmortem_published_at = ?, updated_at = ?, monitoring_at = ?, resolved_at = ?,
       root_cause_id = NULLIF(?, ''), root_cause_inferred = ?
WHERE id = ?;

-- name: incident-components
SELECT incident_id, component_id, status FROM incident_components WHERE incident_id = ?;

-- name: upsert-incident-component
INSERT INTO incident_components (incident_id, component_id, status) VALUES (?, ?, ?)
ON CONFLICT (incident_id, component_id) DO UPDATE SET status = excluded.status;

-- name: insert-incident-update
INSERT INTO incident_updates (id, incident_id, status, body, affected_components, notify, automated, author,
                              next_update_at, display_at, created_at, updated_at, idempotency_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- The incident an idempotency key declared, if any.
-- name: incident-by-idempotency-key
SELECT id FROM incidents WHERE idempotency_key = ?;

-- name: set-incident-idempotency-key
UPDATE incidents SET idempotency_key = ? WHERE id = ?;

-- The update an idempotency key already posted on an incident, if any.
-- name: update-by-idempotency-key
SELECT id, status, body FROM incident_updates WHERE incident_id = ? AND idempotency_key = ?;

-- Holds an incident for the rest of a manual change, so that two changes
-- to one incident (two people, or a retried request) run one after the
-- other. SQLite's single writer does that already; PostgreSQL locks the
-- row.
-- name: lock-incident
SELECT id FROM incidents WHERE id = ?;

-- name: incident-updates
SELECT id, incident_id, status, body, affected_components, notify, automated, author, next_update_at, display_at, created_at
FROM incident_updates WHERE incident_id = ? ORDER BY display_at DESC, created_at DESC;

-- bulk: IN (?) repeats per alert id; the incident id comes first. The
-- alerts are found by key alone: written as incident_id IS NULL, the
-- condition let PostgreSQL's planner find them among every alert in no
-- incident.
-- name: attach-alerts
UPDATE alerts SET incident_id = ? WHERE id IN (?) AND COALESCE(incident_id, '') = '';

-- bulk: IN (?) repeats per alert id. Records the alerts that are in the
-- incident now as joining it (one another incident holds is left out);
-- one that joined before keeps its joined_at. By key alone, as above:
-- written as incident_id = ?, PostgreSQL read every alert of the incident
-- for each few hundred joining it, which in a storm grew with the storm.
-- name: insert-incident-alerts
INSERT INTO incident_alerts (incident_id, alert_id, joined_at)
SELECT incident_id, id, ? FROM alerts WHERE id IN (?) AND COALESCE(incident_id, '') = ?
ON CONFLICT (incident_id, alert_id) DO NOTHING;

-- Firing alerts routed to components that belong to no incident yet.
-- Routed alerts carry their rule, and alerts_pending (migration 00008)
-- holds exactly the firing, routed alerts no incident has taken: the read
-- costs what is new, not what is firing (a storm's attached alerts) nor
-- what was ever routed (the resolved ones, kept), nor the unrouted alerts
-- that fire and never join an incident.
-- name: uncorrelated-alerts
SELECT a.id, a.labels, a.severity, a.flapping, a.received_at, ac.component_id, COALESCE(c.group_id, '') AS group_id, c.name, ac.status
FROM alerts a
JOIN alert_components ac ON ac.alert_id = a.id
JOIN components c ON c.id = ac.component_id
WHERE a.status = 'firing' AND a.incident_id IS NULL AND a.rule_id IS NOT NULL
ORDER BY a.id;

-- bulk: IN (?) repeats per alert id. The state of the alerts the
-- reconcile pass read ahead of its write transaction, found by key: the
-- store keeps those pending still.
-- name: still-pending
SELECT id, status, COALESCE(incident_id, '') AS incident_id FROM alerts WHERE id IN (?);

-- Which statuses active alerts (firing, or flapping, which holds its
-- worse state while resolved) give each component: what component
-- statuses derive from. Each pair once: a storm's thousands of alerts
-- collapse to a few rows instead of crossing to Go one by one. It costs
-- what is active (the firing alerts, then their components, from indexes
-- alone on SQLite), so the reconcile pass runs it before its write
-- transaction, not inside it (see ActiveComponentStatuses).
-- name: active-component-statuses
SELECT ac.component_id, ac.status
FROM alerts a JOIN alert_components ac ON ac.alert_id = a.id
WHERE a.status = 'firing'
UNION
SELECT ac.component_id, ac.status
FROM alerts a JOIN alert_components ac ON ac.alert_id = a.id
WHERE a.flapping;

-- The statuses active alerts give one component: the check, under the
-- write lock, of a change the pass read outside it, paid when a
-- component's status changes. Found from the active alerts, as above, not
-- from the component's alerts, which are every alert it ever had.
-- name: component-active-statuses
SELECT ac.status
FROM alerts a JOIN alert_components ac ON ac.alert_id = a.id
WHERE a.status = 'firing' AND ac.component_id = ?
UNION
SELECT ac.status
FROM alerts a JOIN alert_components ac ON ac.alert_id = a.id
WHERE a.flapping AND ac.component_id = ?;

-- Whether an incident has an active alert: two probes of indexes
-- (alerts_status_incident, alerts_flapping_incident), whatever the number
-- of alerts firing or in the incident.
-- name: incident-active
SELECT CASE WHEN EXISTS (SELECT 1 FROM alerts WHERE status = 'firing' AND incident_id = ?)
              OR EXISTS (SELECT 1 FROM alerts WHERE flapping AND incident_id = ?) THEN 1 ELSE 0 END;

-- name: components-under-maintenance
SELECT DISTINCT ic.component_id
FROM incident_components ic JOIN incidents i ON i.id = ic.incident_id
WHERE i.kind = 'maintenance' AND i.status IN ('in_progress', 'verifying');

-- name: open-incident-components
SELECT ic.component_id, i.id AS incident_id
FROM incident_components ic JOIN incidents i ON i.id = ic.incident_id
WHERE i.kind = 'incident' AND i.status NOT IN ('resolved', 'postmortem');

-- name: set-component-status
UPDATE components SET status = ?, status_changed_at = ?, updated_at = ? WHERE id = ? AND status = ?;

-- name: set-component-manual-status
UPDATE components SET manual_status = NULLIF(?, ''), updated_at = ? WHERE id = ?;

-- name: insert-status-change
INSERT INTO component_status_changes (component_id, old_status, new_status, reason, incident_id, changed_at)
VALUES (?, ?, ?, ?, NULLIF(?, ''), ?);

-- name: component-status-changes
SELECT component_id, old_status, new_status, reason, COALESCE(incident_id, '') AS incident_id, changed_at
FROM component_status_changes WHERE changed_at >= ? ORDER BY component_id, changed_at;

-- name: set-flapping
UPDATE alerts SET flapping = ? WHERE id = ?;

-- name: flapping-alerts
SELECT id, flapping, state_changes, state_changes_since, status, starts_at, ends_at
FROM alerts WHERE flapping;

-- name: update-incident-update
UPDATE incident_updates SET body = ?, affected_components = ?, updated_at = ? WHERE id = ?;

-- name: last-incident-event
SELECT COALESCE(MAX(created_at), ?) FROM events WHERE incident_id = ? AND type LIKE 'incident.%' AND type <> 'incident.update_due';

-- name: latest-update-time
SELECT COALESCE(MAX(created_at), ?) FROM incident_updates WHERE incident_id = ?;

-- Serializes reconcile passes (a no-op on SQLite, whose single writer
-- serializes them already; PostgreSQL overrides it with an advisory lock).
-- name: lock-reconcile
SELECT 1;

-- name: update-announced
SELECT COUNT(*) FROM events WHERE incident_update_id = ?;

-- An alert that changed state more than flap.changes times within the
-- current window (ingest counts them) is flapping. "state_changes > 0"
-- (implied, as flap.changes is positive) names the predicate of the
-- partial index alerts_changing, so both databases read it whatever the
-- parameter's value.
-- name: mark-flapping
UPDATE alerts SET flapping = TRUE
WHERE state_changes > ? AND state_changes > 0 AND state_changes_since >= ? AND NOT flapping;

-- Folding an incident into another (a root cause's, inside group_wait):
-- its alerts, and the record of their joining, move to the other; then it
-- goes, with its components and its one unannounced update.
-- name: move-incident-alerts
UPDATE alerts SET incident_id = ? WHERE incident_id = ?;

-- name: move-incident-joins
INSERT INTO incident_alerts (incident_id, alert_id, joined_at)
SELECT ?, alert_id, joined_at FROM incident_alerts WHERE incident_id = ?
ON CONFLICT DO NOTHING;

-- name: delete-incident
DELETE FROM incidents WHERE id = ?;

-- name: delete-incident-timers
DELETE FROM timers WHERE ref_id = ?;
