-- name: lock-reconcile
SELECT pg_advisory_xact_lock(7411020001);

-- name: lock-incident
SELECT id FROM incidents WHERE id = ? FOR UPDATE;

-- Locks the alerts a reconcile pass is about to put into incidents, all at
-- once and in the order ingest locks them (lock-alerts: by source, then
-- fingerprint), so that a request refreshing some of them waits for the
-- pass instead of deadlocking with it.
-- name: still-pending
SELECT id, status, COALESCE(incident_id, '') AS incident_id FROM alerts WHERE id IN (?)
ORDER BY source_id, fingerprint FOR UPDATE;
