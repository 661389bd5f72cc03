-- name: lock-reconcile
SELECT pg_advisory_xact_lock(7411020001);
