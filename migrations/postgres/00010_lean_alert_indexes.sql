-- Fewer index entries per alert. An alert row is written when it first
-- fires, again when the reconcile pass puts it into an incident, and at
-- every refresh and state change after; each write that is not a
-- heap-only update adds an entry to every index of the table.
--
-- alerts_status (status, last_seen_at) answered nothing the other indexes
-- do not: every query that asks for firing alerts reads
-- alerts_status_incident, which also leads with status, and none orders or
-- filters by last_seen_at. Yet last_seen_at moves at every refresh of a
-- firing alert, so on PostgreSQL the index made each refresh a full
-- update, with new entries in all nine indexes, where it can now be a
-- heap-only one.
--
-- alerts_state_changes held every alert, though the pass that flags
-- flapping alerts (mark-flapping) wants only those that changed state in
-- their window: a new alert has no state change yet, so the partial index
-- leaves out nearly all of a storm's alerts.

-- +goose Up
DROP INDEX alerts_status;
DROP INDEX alerts_state_changes;
CREATE INDEX alerts_changing ON alerts (state_changes) WHERE state_changes > 0;

-- +goose Down
-- Forward-only: Herald never migrates down.
