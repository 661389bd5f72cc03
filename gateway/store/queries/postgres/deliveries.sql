-- PostgreSQL's claim, and its decoding of JSON array parameters (SQLite
-- uses json_each).

-- The claim: the same batch, locked with FOR UPDATE SKIP LOCKED so
-- that any number of replicas claim disjoint rows without waiting on each
-- other. Arguments in the same order as the common query.

-- name: claim-deliveries
UPDATE deliveries
SET status = 'sending', lease_until = ?, lease_owner = ?, attempts = attempts + 1, updated_at = ?,
    last_error = CASE WHEN status = 'sending' THEN 'lease expired: the process sending it stopped' ELSE last_error END
WHERE id IN (
    SELECT id FROM (
        SELECT id FROM deliveries WHERE status = 'sending' AND lease_until < ? AND channel = ?
        LIMIT ? FOR UPDATE SKIP LOCKED
    ) AS expired
    UNION ALL
    SELECT id FROM (
        SELECT id FROM deliveries
        WHERE status IN ('queued', 'retrying') AND channel = ? AND next_attempt_at <= ?
        ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED
    ) AS due
    LIMIT ?
)
RETURNING id, event_id, subscriber_id, channel, attempts;

-- name: extend-leases
-- The heartbeat skips rows another statement holds: those are a group of
-- outcomes being recorded (they leave sending) or a claim taking an
-- expired lease, and neither needs a longer lease. Waiting for them
-- instead could deadlock with an outcome group that locks the same rows
-- in another order, which PostgreSQL breaks only after a second.
UPDATE deliveries SET lease_until = ?
WHERE id IN (
    SELECT id FROM deliveries WHERE status = 'sending' AND lease_owner LIKE ? ESCAPE '\'
    FOR UPDATE SKIP LOCKED
);

-- name: complete-deliveries
-- Matched on id and lease owner only: a row has a lease owner exactly
-- while it is sending (every way out of sending clears it), and without
-- a status test the planner never reads the partial index of sending rows
-- (deliveries_leased) instead of the primary key. That index holds every
-- row claimed since the last vacuum, and reading it made each group cost
-- thousands of buffers during a large fan-out.
--
-- The rows are found through the primary key by `d.id = ANY(…)`: joined
-- on `d.id = v.id` alone, the plan that pgx's prepared statement kept
-- (made while the table was small, or without statistics) read every
-- delivery in a sequential scan for each group of outcomes: 13 ms a group
-- of 18 at 20,000 deliveries, and growing with the table.
WITH v AS MATERIALIZED (
    SELECT * FROM jsonb_to_recordset(CAST(? AS jsonb)) AS v(id BIGINT, owner TEXT, status TEXT, next_attempt_at TIMESTAMPTZ,
                                                           code INTEGER, error TEXT, sent_at TIMESTAMPTZ, updated_at TIMESTAMPTZ,
                                                           uncount INTEGER, duration_ms INTEGER, response TEXT)
)
UPDATE deliveries d
SET status = v.status, next_attempt_at = v.next_attempt_at, last_code = v.code, last_error = v.error,
    sent_at = v.sent_at, lease_until = NULL, lease_owner = NULL, updated_at = v.updated_at,
    attempts = d.attempts - v.uncount, sent_duration_ms = v.duration_ms, sent_response = v.response
FROM v
WHERE d.id = ANY(ARRAY(SELECT id FROM v)) AND d.id = v.id AND d.lease_owner = v.owner
RETURNING d.id;

-- name: complete-and-log-deliveries
-- complete-deliveries and insert-attempts in one statement: an attempt is
-- logged only for the rows whose lease was still ours. Arguments: the
-- outcomes, then the attempts, as JSON arrays.
-- The rows are found as complete-deliveries finds them.
WITH v AS MATERIALIZED (
    SELECT * FROM jsonb_to_recordset(CAST(? AS jsonb)) AS v(id BIGINT, owner TEXT, status TEXT, next_attempt_at TIMESTAMPTZ,
                                                           code INTEGER, error TEXT, sent_at TIMESTAMPTZ, updated_at TIMESTAMPTZ,
                                                           uncount INTEGER, duration_ms INTEGER, response TEXT)
), done AS (
    UPDATE deliveries d
    SET status = v.status, next_attempt_at = v.next_attempt_at, last_code = v.code, last_error = v.error,
        sent_at = v.sent_at, lease_until = NULL, lease_owner = NULL, updated_at = v.updated_at,
        attempts = d.attempts - v.uncount, sent_duration_ms = v.duration_ms, sent_response = v.response
    FROM v
    WHERE d.id = ANY(ARRAY(SELECT id FROM v)) AND d.id = v.id AND d.lease_owner = v.owner
    RETURNING d.id
), logged AS (
    INSERT INTO delivery_attempts (delivery_id, attempted_at, duration_ms, outcome, code, error, response)
    SELECT a.delivery_id, a.attempted_at, a.duration_ms, a.outcome, a.code, a.error, a.response
    FROM jsonb_to_recordset(CAST(? AS jsonb)) AS a(delivery_id BIGINT, attempted_at TIMESTAMPTZ, duration_ms INTEGER,
                                                    outcome TEXT, code INTEGER, error TEXT, response TEXT)
    WHERE a.delivery_id IN (SELECT id FROM done)
)
SELECT id FROM done;

-- name: insert-attempts
INSERT INTO delivery_attempts (delivery_id, attempted_at, duration_ms, outcome, code, error, response)
SELECT delivery_id, attempted_at, duration_ms, outcome, code, error, response
FROM jsonb_to_recordset(CAST(? AS jsonb)) AS v(delivery_id BIGINT, attempted_at TIMESTAMPTZ, duration_ms INTEGER,
                                                outcome TEXT, code INTEGER, error TEXT, response TEXT);

-- name: reset-permanent-failures
UPDATE subscribers SET permanent_failures = 0
WHERE permanent_failures > 0 AND id IN (SELECT jsonb_array_elements_text(CAST(? AS jsonb)));

-- name: batch-recipients
SELECT s.id, s.kind, s.address, s.format, s.status, s.secret, s.all_components, s.token_nonce,
       s.consent_source, s.disabled_reason, s.permanent_failures, s.confirmed_at, s.unsubscribed_at,
       s.created_at, s.updated_at,
       CASE WHEN s.kind = 'email' AND EXISTS (
           SELECT 1 FROM suppressions x WHERE x.address_hash = herald_sha256(s.address)) THEN 1 ELSE 0 END AS suppressed
FROM subscribers s
WHERE s.id IN (SELECT jsonb_array_elements_text(CAST(? AS jsonb)));

-- name: batch-events
SELECT id, type, COALESCE(incident_id, '') AS incident_id, COALESCE(incident_update_id, '') AS incident_update_id,
       COALESCE(component_id, '') AS component_id, COALESCE(subscriber_id, '') AS subscriber_id,
       all_subscribers, notify, payload, COALESCE(idempotency_key, '') AS idempotency_key, actor, created_at, planned_at
FROM events
WHERE id IN (SELECT jsonb_array_elements_text(CAST(? AS jsonb)));

-- name: batch-event-components
SELECT event_id, component_id FROM event_components
WHERE event_id IN (SELECT jsonb_array_elements_text(CAST(? AS jsonb)))
ORDER BY event_id, component_id;
