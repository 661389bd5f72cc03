-- The reconcile pass asks every second for the alerts it has to put into
-- incidents: firing, routed (a routing rule matched them) and in no
-- incident yet. alerts_pending holds exactly those, so the question costs
-- what is new. No index could answer it before: the alerts' (status,
-- incident_id) one also holds every unrouted firing alert, which never
-- joins an incident, and alert_components every alert ever routed, the
-- resolved and the attached ones too.
--
-- It also asks, of each open automatic incident, whether an alert of it
-- is active (firing, or flapping): alerts_status_incident answers the
-- first half, alerts_flapping_incident the second, with the few flapping
-- alerts only, not every alert of the incident.

-- +goose Up
CREATE INDEX alerts_pending ON alerts (id) WHERE status = 'firing' AND incident_id IS NULL AND rule_id IS NOT NULL;
CREATE INDEX alerts_flapping_incident ON alerts (incident_id) WHERE flapping;

-- +goose Down
-- Forward-only: Herald never migrates down.
