-- Alert lifecycle: ends that pass, and components held outside incidents.
--
-- A firing alert whose ends_at has passed is resolved by the reconcile
-- pass (Alertmanager's rule), which asks each second for the firing alerts
-- whose end is due. alerts_expiring holds only the firing alerts that have
-- an end: the ones from senders that refresh them (Prometheus, amtool
-- through the Alertmanager API), not the webhook alerts that fire until
-- their sender resolves them, so the question costs what is due.
--
-- components.held says why a component that alerts made non-operational
-- is in no open incident: 'min_alerts' (too few alerts fire to open one),
-- 'flapping' (only flapping alerts hold it) or 'maintenance' (a
-- maintenance in progress covers it); '' when nothing holds it.

-- +goose Up
CREATE INDEX alerts_expiring ON alerts (ends_at) WHERE status = 'firing' AND ends_at IS NOT NULL;
ALTER TABLE components ADD COLUMN held TEXT NOT NULL DEFAULT '';

-- +goose Down
-- Forward-only: Herald never migrates down.
