-- Channels are listed in Go (gateway/channels), not in the schema: adding
-- a notification channel must not need a migration. The kinds a subscriber
-- may have, and so the channels of its deliveries, are checked by the
-- subscribers service against that list, so the two CHECKs that named
-- email and webhook go. (PostgreSQL named them after table and column.)
-- Dropping a CHECK only edits the catalog: no row is read or rewritten.

-- +goose Up
ALTER TABLE subscribers DROP CONSTRAINT IF EXISTS subscribers_kind_check;
ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_channel_check;

-- +goose Down
-- Forward-only: Herald never migrates down.
