-- Component dependencies and built-in probes.
--
-- A dependency is an edge from a component to one it depends on (its
-- upstream); the graph is kept acyclic by the store, which checks every
-- change against the whole graph in the transaction that writes it.
--
-- A probe is a check Herald runs itself (DNS, HTTP, TCP). Its row is also
-- its timer: next_run_at is when it is due, and a replica claims it with a
-- lease (lease_until, lease_owner) exactly as timers and deliveries are
-- claimed, so each probe runs once per interval whichever replica claims
-- it, and a replica that dies leaves its probes to the others when the
-- lease ends. The counters (up, fails, oks) are the probe's state between
-- runs; they live here, not in any process. probe_results keeps the last
-- results (bounded by the store) for the API and the page.

-- +goose Up
CREATE TABLE component_dependencies (
    component_id  TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    depends_on_id TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    PRIMARY KEY (component_id, depends_on_id),
    CHECK (component_id <> depends_on_id)
);
CREATE INDEX component_dependencies_upstream ON component_dependencies (depends_on_id);

CREATE TABLE probes (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL CHECK (kind IN ('dns', 'http', 'tcp')),
    component_id   TEXT REFERENCES components (id) ON DELETE SET NULL,
    -- The routing rule that sends the probe's alerts to its component.
    rule_id        TEXT REFERENCES rules (id) ON DELETE SET NULL,
    spec           TEXT NOT NULL DEFAULT '{}', -- JSON: the kind's keys and the common ones
    origin         TEXT NOT NULL DEFAULT 'api' CHECK (origin IN ('config', 'api')),
    next_run_at    TIMESTAMP NOT NULL,
    lease_until    TIMESTAMP,
    lease_owner    TEXT,
    up             BOOLEAN NOT NULL DEFAULT TRUE,
    fails          INTEGER NOT NULL DEFAULT 0,
    oks            INTEGER NOT NULL DEFAULT 0,
    tls_warning    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX probes_due ON probes (next_run_at);

CREATE TABLE probe_results (
    id          INTEGER PRIMARY KEY,
    probe_id    TEXT NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    at          TIMESTAMP NOT NULL,
    ok          BOOLEAN NOT NULL,
    duration_ms REAL NOT NULL,
    message     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX probe_results_probe ON probe_results (probe_id, at);

-- +goose Down
-- Forward-only: Herald never migrates down.
