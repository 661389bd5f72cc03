-- Root causes: the upstream component an incident's alerts share.
--
-- When alerts fire on components that depend (transitively) on one
-- upstream, the reconcile pass puts them into one incident and records the
-- upstream here: inferred (a probable cause) while the upstream has no
-- signal of its own, confirmed once it fires or is non-operational. A
-- component removed from the configuration leaves the incident without a
-- cause rather than without its history.

-- +goose Up
ALTER TABLE incidents ADD COLUMN root_cause_id TEXT REFERENCES components (id) ON DELETE SET NULL;
ALTER TABLE incidents ADD COLUMN root_cause_inferred BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
-- Forward-only: Herald never migrates down.
