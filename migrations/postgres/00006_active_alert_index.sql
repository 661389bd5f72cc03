-- The reconcile pass reads, every second, which statuses the firing
-- alerts give each component (active-alert-statuses). During a storm
-- that is tens of thousands of alerts; these covering indexes answer it
-- from the indexes alone, without visiting a table row per alert, so the
-- pass holds the write lock (SQLite's one writer) for less time and
-- ingest waits less. With incident_id second, the firing alerts that no
-- incident has taken yet (uncorrelated-alerts) are one range of it, so
-- finding the new ones costs what they number, not what is firing.

-- +goose Up
CREATE INDEX alerts_status_incident ON alerts (status, incident_id, id);
CREATE INDEX alert_components_status ON alert_components (alert_id, component_id, status);

-- +goose Down
-- Forward-only: Herald never migrates down.
