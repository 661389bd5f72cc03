-- The attempt that sent a delivery is kept on the delivery row itself
-- (sent_at, last_code and these two), not as a row of delivery_attempts,
-- which now logs the attempts that failed. Nearly every delivery is sent
-- at its first attempt, so a fan-out writes one row less per message: the
-- insert, its index entries and its foreign-key check were about a
-- quarter of the cost of recording an outcome. The store lists the sent
-- attempt with the others, last.

-- +goose Up
ALTER TABLE deliveries ADD COLUMN sent_duration_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN sent_response TEXT NOT NULL DEFAULT '';

-- +goose Down
-- Forward-only: Herald never migrates down.
