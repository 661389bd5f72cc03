-- SQLite's planner, without statistics, picks the wrong index for these.
-- It finds the pending alerts through alerts_status_incident, whose range
-- (firing, in no incident) holds every unrouted firing alert too, and
-- whether an incident has a flapping alert through alerts_incident, every
-- alert of the incident: INDEXED BY names the small partial indexes of
-- migration 00008. And it finds the statuses of the active alerts from
-- alert_components, every alert ever routed (the resolved ones are kept),
-- reading each one's row: INDEXED BY starts from the firing ones, and
-- both lookups are answered by covering indexes (migration 00006).

-- name: uncorrelated-alerts
SELECT a.id, a.labels, a.severity, a.flapping, a.received_at, ac.component_id, COALESCE(c.group_id, '') AS group_id, c.name, ac.status
FROM alerts a INDEXED BY alerts_pending
JOIN alert_components ac ON ac.alert_id = a.id
JOIN components c ON c.id = ac.component_id
WHERE a.status = 'firing' AND a.incident_id IS NULL AND a.rule_id IS NOT NULL
ORDER BY a.id;

-- name: incident-active
SELECT CASE WHEN EXISTS (SELECT 1 FROM alerts WHERE status = 'firing' AND incident_id = ?)
              OR EXISTS (SELECT 1 FROM alerts INDEXED BY alerts_flapping_incident WHERE flapping AND incident_id = ?) THEN 1 ELSE 0 END;

-- CROSS JOIN keeps the alerts as the outer loop: SQLite does not reorder
-- it.

-- name: active-component-statuses
SELECT ac.component_id, ac.status
FROM alerts a INDEXED BY alerts_status_incident
CROSS JOIN alert_components ac INDEXED BY alert_components_status
WHERE ac.alert_id = a.id AND a.status = 'firing'
UNION
SELECT ac.component_id, ac.status
FROM alerts a INDEXED BY alerts_flapping
CROSS JOIN alert_components ac INDEXED BY alert_components_status
WHERE ac.alert_id = a.id AND a.flapping;

-- name: component-active-statuses
SELECT ac.status
FROM alerts a INDEXED BY alerts_status_incident
CROSS JOIN alert_components ac INDEXED BY alert_components_status
WHERE ac.alert_id = a.id AND a.status = 'firing' AND ac.component_id = ?
UNION
SELECT ac.status
FROM alerts a INDEXED BY alerts_flapping
CROSS JOIN alert_components ac INDEXED BY alert_components_status
WHERE ac.alert_id = a.id AND a.flapping AND ac.component_id = ?;
