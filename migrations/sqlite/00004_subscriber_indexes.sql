-- Indexes for subscribers at a million rows.
--
-- subscribers_whole_page: the fan-out streams the whole-page subscribers
-- (active, all_components) in id order, a batch at a time from the last
-- id seen; a partial index holds just them, so a batch reads a batch's
-- worth of entries wherever it starts. subscriptions_component and
-- group_subscriptions_group (00001) serve the per-component and per-group
-- halves the same way. (The predicate is spelled as stream-subscribers
-- spells it: SQLite uses a partial index only for a query that repeats
-- its terms.)
--
-- subscribers_created: the admin list pages newest first by
-- (created_at, id).

-- +goose Up
CREATE INDEX subscribers_whole_page ON subscribers (id) WHERE status = 'active' AND all_components = TRUE;
CREATE INDEX subscribers_created ON subscribers (created_at, id);

-- +goose Down
-- Forward-only: Herald never migrates down.
