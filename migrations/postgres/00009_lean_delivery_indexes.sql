-- Fewer index entries per delivery. A delivery row is written three times
-- (planned, claimed, its outcome), and each write of a queue row adds an
-- entry to every index whose rows it is in, so each index is paid for
-- about a hundred thousand times in a large fan-out.
--
-- deliveries_due duplicated deliveries_due_channel for the one query
-- without a channel (the oldest due delivery, for a gauge), which now asks
-- per channel. deliveries_event_status held every delivery, finished ones
-- too; its users want an event's unfinished deliveries (the dashboard's
-- fan-outs in progress, cancelling an event), so it becomes a partial
-- index of those, and a finished delivery leaves it. Counting an event's
-- deliveries by status reads the unique (event_id, …) index instead.

-- +goose Up
DROP INDEX deliveries_due;
DROP INDEX deliveries_event_status;
CREATE INDEX deliveries_event_live ON deliveries (event_id) WHERE status IN ('queued', 'retrying', 'sending');

-- +goose Down
-- Forward-only: Herald never migrates down.
