-- Events addressed to one subscriber (the double opt-in mail, a webhook's
-- test ping) name it, so the planner can send to it whatever its status.
-- And a due-deliveries index per channel: each channel's workers claim their
-- own rows, so a stalled channel (a hanging SMTP server) never blocks the
-- other's claims behind rows it cannot take.
-- herald_sha256 is gateway.AddressHash over a stored (normalized) address:
-- the planner matches subscribers against suppressions with it, set-wise.

-- +goose Up
ALTER TABLE events ADD COLUMN subscriber_id TEXT REFERENCES subscribers (id) ON DELETE CASCADE;
CREATE INDEX events_subscriber ON events (subscriber_id) WHERE subscriber_id IS NOT NULL;
CREATE INDEX deliveries_due_channel ON deliveries (channel, next_attempt_at) WHERE status IN ('queued', 'retrying');

-- +goose StatementBegin
CREATE FUNCTION herald_sha256(addr TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT encode(sha256(convert_to(addr, 'UTF8')), 'hex') $$;
-- +goose StatementEnd

-- +goose Down
-- Forward-only: Herald never migrates down.
