-- Reconciliation looks at firing alerts (alerts_status), at flapping ones,
-- which hold their component's status while resolved, and at alerts that
-- changed state often enough to be flapping; these indexes keep the last
-- two looks from scanning every alert.

-- +goose Up
CREATE INDEX alerts_flapping ON alerts (id) WHERE flapping;
CREATE INDEX alerts_state_changes ON alerts (state_changes);

-- +goose Down
-- Forward-only.
