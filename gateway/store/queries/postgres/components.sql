-- name: lock-config-sync
SELECT pg_advisory_xact_lock(7411020002);

-- name: lock-dependencies
SELECT pg_advisory_xact_lock(7411020011);
