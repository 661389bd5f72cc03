-- PostgreSQL's versions of blocks in ../episodes.sql: both lock the
-- alerts they change in the order ingest locks them (lock-alerts: by
-- source, then fingerprint), so that a request refreshing some of them
-- waits for the change instead of deadlocking with it.

-- name: expire-alerts
UPDATE alerts SET status = 'resolved',
       state_changes = CASE WHEN state_changes_since IS NULL OR state_changes_since < ? THEN 1 ELSE state_changes + 1 END,
       state_changes_since = CASE WHEN state_changes_since IS NULL OR state_changes_since < ? THEN ? ELSE state_changes_since END
WHERE id IN (SELECT id FROM alerts WHERE status = 'firing' AND ends_at IS NOT NULL AND ends_at <= ?
             ORDER BY source_id, fingerprint FOR UPDATE);

-- name: detach-firing-alerts
UPDATE alerts SET incident_id = NULL
WHERE id IN (SELECT id FROM alerts WHERE incident_id = ? AND status = 'firing' ORDER BY source_id, fingerprint FOR UPDATE);
