-- Herald's whole domain schema. Written once for every issue so later work adds
-- behaviour, not tables. Portable SQL; postgres/00001_schema.sql is the same
-- schema with PostgreSQL types (TIMESTAMPTZ, identity columns, DOUBLE PRECISION).
-- Times are always written by Herald in UTC; JSON is stored as TEXT in both.

-- +goose Up
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE component_groups (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    position    INTEGER NOT NULL DEFAULT 0,
    origin      TEXT NOT NULL DEFAULT 'api' CHECK (origin IN ('config', 'api')),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE components (
    id                    TEXT PRIMARY KEY,
    group_id              TEXT REFERENCES component_groups (id) ON DELETE SET NULL,
    name                  TEXT NOT NULL UNIQUE,
    description           TEXT NOT NULL DEFAULT '',
    position              INTEGER NOT NULL DEFAULT 0,
    -- status is the effective status shown everywhere; manual_status is
    -- support's override, which wins until support clears it.
    status                TEXT NOT NULL DEFAULT 'operational'
        CHECK (status IN ('operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance')),
    manual_status         TEXT
        CHECK (manual_status IS NULL OR manual_status IN ('operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance')),
    status_changed_at     TIMESTAMP NOT NULL,
    showcase              BOOLEAN NOT NULL DEFAULT TRUE,
    only_show_if_degraded BOOLEAN NOT NULL DEFAULT FALSE,
    origin                TEXT NOT NULL DEFAULT 'api' CHECK (origin IN ('config', 'api')),
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL
);
CREATE INDEX components_group ON components (group_id, position);

CREATE TABLE sources (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    token_hash       TEXT NOT NULL UNIQUE,
    token_prefix     TEXT NOT NULL DEFAULT '',
    rate_limit       REAL NOT NULL DEFAULT 0,
    last_alert_at    TIMESTAMP,
    token_rotated_at TIMESTAMP,
    origin           TEXT NOT NULL DEFAULT 'api' CHECK (origin IN ('config', 'api')),
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);

-- Routing rules: first match by position wins.
CREATE TABLE rules (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL DEFAULT '',
    position        INTEGER NOT NULL,
    matchers        TEXT NOT NULL DEFAULT '[]', -- JSON [{"name","op","value"}]
    severity_status TEXT NOT NULL DEFAULT '{}', -- JSON {"critical":"major_outage"}
    origin          TEXT NOT NULL DEFAULT 'api' CHECK (origin IN ('config', 'api')),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX rules_position ON rules (position);

CREATE TABLE rule_components (
    rule_id      TEXT NOT NULL REFERENCES rules (id) ON DELETE CASCADE,
    component_id TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    PRIMARY KEY (rule_id, component_id)
);

-- Incidents and scheduled maintenances share one table, as in Statuspage,
-- whose API returns maintenances as incidents with scheduled_for/until.
CREATE TABLE incidents (
    id                      TEXT PRIMARY KEY,
    kind                    TEXT NOT NULL DEFAULT 'incident' CHECK (kind IN ('incident', 'maintenance')),
    name                    TEXT NOT NULL,
    status                  TEXT NOT NULL
        CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved', 'postmortem',
                          'scheduled', 'in_progress', 'verifying', 'completed')),
    impact                  TEXT NOT NULL DEFAULT 'none'
        CHECK (impact IN ('none', 'minor', 'major', 'critical', 'maintenance')),
    automated               BOOLEAN NOT NULL DEFAULT FALSE, -- opened by alerts
    -- Set when a person first posts an update: from then on automation never
    -- writes the incident's status or words again.
    human_at                TIMESTAMP,
    published               BOOLEAN NOT NULL DEFAULT TRUE,  -- FALSE: a draft, internal only
    -- Set while the incident takes new alerts; unique, so concurrent alerts
    -- of one correlation group can open only one incident.
    correlation_key         TEXT UNIQUE,
    last_alert_at           TIMESTAMP,
    next_update_at          TIMESTAMP,
    scheduled_for           TIMESTAMP,
    scheduled_until         TIMESTAMP,
    auto_transition         BOOLEAN NOT NULL DEFAULT TRUE,  -- maintenance starts and completes by itself
    postmortem_body         TEXT NOT NULL DEFAULT '',
    postmortem_published_at TIMESTAMP,
    created_by              TEXT NOT NULL DEFAULT 'automation',
    created_at              TIMESTAMP NOT NULL,
    updated_at              TIMESTAMP NOT NULL,
    monitoring_at           TIMESTAMP,
    resolved_at             TIMESTAMP
);
CREATE INDEX incidents_kind_status ON incidents (kind, status, created_at);
CREATE INDEX incidents_created ON incidents (created_at);

-- The components an incident affects and the status it gives each.
CREATE TABLE incident_components (
    incident_id  TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    component_id TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    PRIMARY KEY (incident_id, component_id)
);
CREATE INDEX incident_components_component ON incident_components (component_id);

CREATE TABLE incident_updates (
    id                  TEXT PRIMARY KEY,
    incident_id         TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    status              TEXT NOT NULL,
    body                TEXT NOT NULL,
    -- JSON snapshot [{"component_id","name","old_status","new_status"}], as
    -- Statuspage's affected_components.
    affected_components TEXT NOT NULL DEFAULT '[]',
    notify              BOOLEAN NOT NULL DEFAULT TRUE,
    automated           BOOLEAN NOT NULL DEFAULT FALSE,
    author              TEXT NOT NULL,
    next_update_at      TIMESTAMP,
    display_at          TIMESTAMP NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE INDEX incident_updates_incident ON incident_updates (incident_id, created_at);

-- Every change of a component's status, with its time: the uptime history.
CREATE TABLE component_status_changes (
    id           INTEGER PRIMARY KEY,
    component_id TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    old_status   TEXT NOT NULL,
    new_status   TEXT NOT NULL,
    reason       TEXT NOT NULL, -- alert | manual | incident | maintenance
    incident_id  TEXT REFERENCES incidents (id) ON DELETE SET NULL,
    changed_at   TIMESTAMP NOT NULL
);
CREATE INDEX component_status_changes_component ON component_status_changes (component_id, changed_at);

-- One row per (source, fingerprint): a re-fire after a resolve reuses it, so
-- flapping is visible and counted.
CREATE TABLE alerts (
    id                  INTEGER PRIMARY KEY,
    source_id           TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    fingerprint         TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
    severity            TEXT NOT NULL,
    summary             TEXT NOT NULL DEFAULT '',
    labels              TEXT NOT NULL DEFAULT '{}',
    annotations         TEXT NOT NULL DEFAULT '{}',
    generator_url       TEXT NOT NULL DEFAULT '',
    raw                 TEXT NOT NULL DEFAULT '',
    starts_at           TIMESTAMP NOT NULL,
    ends_at             TIMESTAMP,
    received_at         TIMESTAMP NOT NULL,
    last_seen_at        TIMESTAMP NOT NULL,
    rule_id             TEXT REFERENCES rules (id) ON DELETE SET NULL,
    incident_id         TEXT REFERENCES incidents (id) ON DELETE SET NULL,
    flapping            BOOLEAN NOT NULL DEFAULT FALSE,
    state_changes       INTEGER NOT NULL DEFAULT 0,
    state_changes_since TIMESTAMP,
    UNIQUE (source_id, fingerprint)
);
CREATE INDEX alerts_status ON alerts (status, last_seen_at);
CREATE INDEX alerts_incident ON alerts (incident_id);

-- The components a routed alert affects and the status it gives each.
CREATE TABLE alert_components (
    alert_id     INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    component_id TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    PRIMARY KEY (alert_id, component_id)
);
CREATE INDEX alert_components_component ON alert_components (component_id);

-- Which alerts joined which incident, for the incident's timeline.
CREATE TABLE incident_alerts (
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    alert_id    INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    joined_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (incident_id, alert_id)
);

CREATE TABLE subscribers (
    id                   TEXT PRIMARY KEY,
    kind                 TEXT NOT NULL CHECK (kind IN ('email', 'webhook')),
    address              TEXT NOT NULL, -- normalized email address, or webhook URL
    format               TEXT NOT NULL DEFAULT '', -- webhook body: statuspage | slack | generic
    secret               TEXT NOT NULL DEFAULT '', -- webhook signing secret, encrypted
    status               TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'active', 'unsubscribed', 'disabled')),
    all_components       BOOLEAN NOT NULL DEFAULT TRUE,
    -- Manage and unsubscribe links carry HMACs over (id, nonce): no token is
    -- stored, and a new nonce revokes every link at once.
    token_nonce          TEXT NOT NULL,
    consent_source       TEXT NOT NULL DEFAULT '',
    disabled_reason      TEXT NOT NULL DEFAULT '',
    permanent_failures   INTEGER NOT NULL DEFAULT 0,
    confirmation_sent_at TIMESTAMP,
    confirmations_sent   INTEGER NOT NULL DEFAULT 0,
    confirmed_at         TIMESTAMP,
    unsubscribed_at      TIMESTAMP,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    UNIQUE (kind, address)
);
CREATE INDEX subscribers_active ON subscribers (status, all_components);

CREATE TABLE subscriptions (
    subscriber_id TEXT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    component_id  TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (subscriber_id, component_id)
);
CREATE INDEX subscriptions_component ON subscriptions (component_id, subscriber_id);

-- A subscription to a whole group also covers components added to it later.
CREATE TABLE group_subscriptions (
    subscriber_id TEXT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    group_id      TEXT NOT NULL REFERENCES component_groups (id) ON DELETE CASCADE,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (subscriber_id, group_id)
);
CREATE INDEX group_subscriptions_group ON group_subscriptions (group_id, subscriber_id);

-- Keyed by a hash of the normalized address, so that a suppression outlives
-- the erasure of the subscriber without keeping the address.
CREATE TABLE suppressions (
    address_hash TEXT PRIMARY KEY,
    reason       TEXT NOT NULL CHECK (reason IN ('bounce', 'complaint', 'unsubscribe', 'failures', 'manual')),
    detail       TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL
);

-- Notification-worthy happenings; the planner turns each into deliveries.
CREATE TABLE events (
    id                 TEXT PRIMARY KEY,
    type               TEXT NOT NULL,
    incident_id        TEXT REFERENCES incidents (id) ON DELETE SET NULL,
    incident_update_id TEXT REFERENCES incident_updates (id) ON DELETE SET NULL,
    component_id       TEXT REFERENCES components (id) ON DELETE SET NULL,
    all_subscribers    BOOLEAN NOT NULL DEFAULT FALSE, -- e.g. a broadcast to everyone
    notify             BOOLEAN NOT NULL DEFAULT TRUE,
    payload            TEXT NOT NULL DEFAULT '{}',     -- JSON snapshot of what a message needs
    idempotency_key    TEXT UNIQUE,
    actor              TEXT NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    planned_at         TIMESTAMP -- NULL until its deliveries are inserted (the outbox marker)
);
CREATE INDEX events_unplanned ON events (created_at) WHERE planned_at IS NULL;
CREATE INDEX events_incident ON events (incident_id);

CREATE TABLE event_components (
    event_id     TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    component_id TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    PRIMARY KEY (event_id, component_id)
);

-- The deliveries table is the queue: one row per (event, subscriber, channel).
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    subscriber_id   TEXT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    status          TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sending', 'sent', 'retrying', 'dead', 'suppressed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until     TIMESTAMP,
    lease_owner     TEXT,
    last_code       INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    sent_at         TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (event_id, subscriber_id, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('queued', 'retrying');
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE status = 'sending';
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);
CREATE INDEX deliveries_event_status ON deliveries (event_id, status);

CREATE TABLE delivery_attempts (
    id           INTEGER PRIMARY KEY,
    delivery_id  INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempted_at TIMESTAMP NOT NULL,
    duration_ms  INTEGER NOT NULL DEFAULT 0,
    outcome      TEXT NOT NULL CHECK (outcome IN ('sent', 'temporary', 'permanent')),
    code         INTEGER NOT NULL DEFAULT 0, -- SMTP reply code or HTTP status
    error        TEXT NOT NULL DEFAULT '',
    response     TEXT NOT NULL DEFAULT ''    -- capped
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);

-- Persisted timers (group_wait, group_interval, resolve_after, maintenance
-- start/end, update due): claimed like deliveries, so each fires once.
CREATE TABLE timers (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    ref_id      TEXT NOT NULL,
    due_at      TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    lease_owner TEXT,
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (kind, ref_id)
);
CREATE INDEX timers_due ON timers (due_at);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'support', 'viewer')),
    key_hash     TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);

-- Console accounts (support staff) and their sessions.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'support', 'viewer')),
    password_hash TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP,
    disabled_at   TIMESTAMP
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY, -- hash of the cookie's secret
    user_id      TEXT REFERENCES users (id) ON DELETE CASCADE,
    api_key_id   TEXT REFERENCES api_keys (id) ON DELETE CASCADE, -- sign-in with an API key
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL, -- key or user name, or "automation"
    actor_kind  TEXT NOT NULL,
    action      TEXT NOT NULL, -- e.g. component.create
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id);

-- Scheduled maintenances are the incidents of kind 'maintenance'; this view
-- names them for reports and ad-hoc queries.
CREATE VIEW maintenances AS
    SELECT id, name, status, scheduled_for, scheduled_until, auto_transition,
           published, created_by, created_at, updated_at, resolved_at AS completed_at
    FROM incidents WHERE kind = 'maintenance';

-- +goose Down
-- Forward-only: Herald never migrates down.
