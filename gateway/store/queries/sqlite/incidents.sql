-- SQLite's planner, without statistics, drives these joins from the alerts
-- index on status, reading every firing alert each reconcile pass even when
-- few are routed. The unary + keeps it off that index, so the join starts
-- from alert_components (routed alerts only) and probes alerts by key.

-- name: uncorrelated-alerts
SELECT a.id, a.labels, a.severity, a.flapping, ac.component_id, COALESCE(c.group_id, '') AS group_id, c.name, ac.status
FROM alert_components ac
JOIN alerts a ON a.id = ac.alert_id
JOIN components c ON c.id = ac.component_id
WHERE +a.status = 'firing' AND +a.incident_id IS NULL
ORDER BY a.id;

-- name: active-alert-statuses
SELECT ac.component_id, ac.status, COALESCE(a.incident_id, '') AS incident_id
FROM alert_components ac JOIN alerts a ON a.id = ac.alert_id
WHERE +a.status = 'firing'
UNION ALL
SELECT ac.component_id, ac.status, COALESCE(a.incident_id, '') AS incident_id
FROM alerts a JOIN alert_components ac ON ac.alert_id = a.id
WHERE a.flapping AND a.status = 'resolved';
