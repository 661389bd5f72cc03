-- Alert lifecycle: firing episodes, ends that pass, and why a component
-- that alerts made non-operational is in no open incident.

-- A firing alert whose end has passed is resolved then, as Alertmanager
-- resolves it: a sender that refreshes its alerts (Prometheus) stopped
-- sending it. The change counts towards flapping as ingest counts one:
-- the count restarts when its window (the first ?) has passed.
-- name: expire-alerts
UPDATE alerts SET status = 'resolved',
       state_changes = CASE WHEN state_changes_since IS NULL OR state_changes_since < ? THEN 1 ELSE state_changes + 1 END,
       state_changes_since = CASE WHEN state_changes_since IS NULL OR state_changes_since < ? THEN ? ELSE state_changes_since END
WHERE status = 'firing' AND ends_at IS NOT NULL AND ends_at <= ?;

-- Whether any firing alert's end is due: read before expire-alerts, so
-- that a pass with nothing to resolve (nearly every one) takes no write
-- lock for it. A probe of alerts_expiring.
-- name: alerts-due-to-expire
SELECT CASE WHEN EXISTS (SELECT 1 FROM alerts WHERE status = 'firing' AND ends_at IS NOT NULL AND ends_at <= ?)
       THEN 1 ELSE 0 END;

-- The firing alerts of an incident that closes while they fire: their
-- episode is in no incident any more, so correlation places it again.
-- name: detach-firing-alerts
UPDATE alerts SET incident_id = NULL WHERE incident_id = ? AND status = 'firing';

-- Whether a component has a firing alert that is not flapping: what
-- tells a component held by min_alerts from one held by flapping alerts.
-- name: component-has-steady-alert
SELECT CASE WHEN EXISTS (
    SELECT 1 FROM alerts a JOIN alert_components ac ON ac.alert_id = a.id
    WHERE a.status = 'firing' AND NOT a.flapping AND ac.component_id = ?) THEN 1 ELSE 0 END;

-- name: set-component-held
UPDATE components SET held = ? WHERE id = ? AND held <> ?;
