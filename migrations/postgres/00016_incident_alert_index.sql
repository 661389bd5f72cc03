-- alerts_incident holds only the alerts that are in an incident. Every
-- alert arrives in none (incident_id NULL), so the whole index held an
-- entry for each new alert in one run of equal NULL keys: a storm of new
-- alerts wrote them all into the same last pages, and on PostgreSQL, which
-- merges equal keys into posting lists, the inserts of concurrent requests
-- queued on the one page being merged. The reconcile pass then took each
-- entry out again as it put the alert into an incident. Nothing reads the
-- index for alerts in no incident: those are found through alerts_pending
-- and alerts_status_incident. A lookup by incident (incident_id = ?, the
-- foreign key's ON DELETE SET NULL, an incident merged into another)
-- implies incident_id IS NOT NULL, so both planners still use it.

-- +goose Up
DROP INDEX alerts_incident;
CREATE INDEX alerts_incident ON alerts (incident_id) WHERE incident_id IS NOT NULL;

-- +goose Down
-- Forward-only: Herald never migrates down.
