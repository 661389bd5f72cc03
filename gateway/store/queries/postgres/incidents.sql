-- name: lock-reconcile
SELECT pg_advisory_xact_lock(7411020001);

-- name: lock-incident
SELECT id FROM incidents WHERE id = ? FOR UPDATE;
