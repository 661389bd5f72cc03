-- An incident declared by hand, and an incident update, may carry the idempotency key of the form or request
-- that posted it (the console puts one in every update form; the API
-- takes the Idempotency-Key header): the same key declares one incident,
-- and on the same incident posts one update, so a double click, a browser resubmit or a client's
-- retry never sends subscribers the same update twice.
--
-- events_created: the console's dashboard lists the events of the last
-- hour with their progress.

-- +goose Up
ALTER TABLE incidents ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX incidents_idempotency ON incidents (idempotency_key);
ALTER TABLE incident_updates ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX incident_updates_idempotency ON incident_updates (incident_id, idempotency_key);
CREATE INDEX events_created ON events (created_at);

-- +goose Down
-- Forward-only: Herald never migrates down.
