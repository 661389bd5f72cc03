-- Deliveries: the queue, its outcomes, and the operations on it.

-- name: claim-deliveries
-- A batch for one channel: rows whose lease expired (their sender stopped)
-- first, then due rows in due order. SQLite has one writer, so the UPDATE
-- alone is atomic; PostgreSQL overrides this with SKIP LOCKED.
UPDATE deliveries
SET status = 'sending', lease_until = ?, lease_owner = ?, attempts = attempts + 1, updated_at = ?,
    last_error = CASE WHEN status = 'sending' THEN 'lease expired: the process sending it stopped' ELSE last_error END
WHERE id IN (
    SELECT id FROM (
        SELECT id FROM deliveries WHERE status = 'sending' AND lease_until < ? AND channel = ? LIMIT ?
    ) AS expired
    UNION ALL
    SELECT id FROM (
        SELECT id FROM deliveries
        WHERE status IN ('queued', 'retrying') AND channel = ? AND next_attempt_at <= ?
        ORDER BY next_attempt_at LIMIT ?
    ) AS due
    LIMIT ?
)
RETURNING id, event_id, subscriber_id, channel, attempts;

-- name: extend-leases
UPDATE deliveries SET lease_until = ? WHERE status = 'sending' AND lease_owner LIKE ? ESCAPE '\';

-- name: release-deliveries
-- Gives back rows claimed but never sent (shutdown before their turn).
UPDATE deliveries
SET status = CASE WHEN attempts <= 1 THEN 'queued' ELSE 'retrying' END, attempts = attempts - 1,
    lease_until = NULL, lease_owner = NULL, updated_at = ?
WHERE status = 'sending' AND lease_owner = ?;

-- name: complete-deliveries
-- Outcomes, set-wise: one JSON array of rows for a whole group, so that
-- recording costs one round trip per group, not three per message. A row
-- whose lease its owner no longer holds is left alone; RETURNING says
-- which were ours. uncount is 1 for an attempt that must not count (the
-- channel itself was down). PostgreSQL overrides the JSON decoding.
-- jsonb_each, not json_each: json_each hands each row object back as
-- text, which every json_extract then parses again; jsonb_each hands it
-- back in SQLite's binary JSON, which they read as it is
-- (BenchmarkCompleteDeliveries; docs/performance.md has the figures).
UPDATE deliveries
SET status = v.status, next_attempt_at = v.next_attempt_at, last_code = v.code, last_error = v.error,
    sent_at = v.sent_at, lease_until = NULL, lease_owner = NULL, updated_at = v.updated_at,
    attempts = attempts - v.uncount, sent_duration_ms = v.duration_ms, sent_response = v.response
FROM (
    SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.owner') AS owner,
           json_extract(value, '$.uncount') AS uncount,
           json_extract(value, '$.status') AS status, json_extract(value, '$.next_attempt_at') AS next_attempt_at,
           json_extract(value, '$.code') AS code, json_extract(value, '$.error') AS error,
           json_extract(value, '$.sent_at') AS sent_at, json_extract(value, '$.updated_at') AS updated_at,
           json_extract(value, '$.duration_ms') AS duration_ms, json_extract(value, '$.response') AS response
    FROM jsonb_each(?)
) AS v
WHERE deliveries.id = v.id AND deliveries.status = 'sending' AND deliveries.lease_owner = v.owner
RETURNING deliveries.id;

-- name: complete-and-log-deliveries
-- PostgreSQL only: its override records a group's outcomes and attempts in
-- one statement (one round trip, its own commit), for the common case of a
-- group that changes no subscriber. SQLite has no data-modifying WITH and
-- records every group in a transaction (complete-deliveries, then
-- insert-attempts), which costs no round trips in process; this block only
-- keeps the name defined there and is never run.
SELECT id FROM deliveries WHERE ? = '' AND ? = '' AND 1 = 0;

-- name: insert-attempts
-- jsonb_each for the reason given at complete-deliveries.
INSERT INTO delivery_attempts (delivery_id, attempted_at, duration_ms, outcome, code, error, response)
SELECT json_extract(value, '$.delivery_id'), json_extract(value, '$.attempted_at'), json_extract(value, '$.duration_ms'),
       json_extract(value, '$.outcome'), json_extract(value, '$.code'), json_extract(value, '$.error'),
       json_extract(value, '$.response')
FROM jsonb_each(?);

-- name: reset-permanent-failures
UPDATE subscribers SET permanent_failures = 0
WHERE permanent_failures > 0 AND id IN (SELECT value FROM json_each(?));

-- name: batch-recipients
-- The subscribers of a claimed batch (a JSON array of ids), with whether
-- each address is suppressed now: a complaint may have arrived between
-- planning and sending. PostgreSQL overrides the JSON decoding.
SELECT s.id, s.kind, s.address, s.format, s.status, s.secret, s.all_components, s.token_nonce,
       s.consent_source, s.disabled_reason, s.permanent_failures, s.confirmed_at, s.unsubscribed_at,
       s.created_at, s.updated_at,
       CASE WHEN s.kind = 'email' AND EXISTS (
           SELECT 1 FROM suppressions x WHERE x.address_hash = herald_sha256(s.address)) THEN 1 ELSE 0 END AS suppressed
FROM subscribers s
WHERE s.id IN (SELECT value FROM json_each(?));

-- name: batch-events
SELECT id, type, COALESCE(incident_id, '') AS incident_id, COALESCE(incident_update_id, '') AS incident_update_id,
       COALESCE(component_id, '') AS component_id, COALESCE(subscriber_id, '') AS subscriber_id,
       all_subscribers, notify, payload, COALESCE(idempotency_key, '') AS idempotency_key, actor, created_at, planned_at
FROM events
WHERE id IN (SELECT value FROM json_each(?));

-- name: batch-event-components
SELECT event_id, component_id FROM event_components
WHERE event_id IN (SELECT value FROM json_each(?))
ORDER BY event_id, component_id;

-- name: count-permanent-failure
UPDATE subscribers SET permanent_failures = permanent_failures + 1, updated_at = ? WHERE id = ?
RETURNING permanent_failures;

-- name: disable-subscriber
UPDATE subscribers SET status = 'disabled', disabled_reason = ?, updated_at = ?
WHERE id = ? AND status <> 'disabled';

-- name: suppress-subscriber
-- Suppressions keep the hash only, so they outlive the subscriber's erasure.
INSERT INTO suppressions (address_hash, reason, detail, created_at)
SELECT herald_sha256(address), ?, ?, ? FROM subscribers WHERE id = ? AND kind = 'email'
ON CONFLICT (address_hash) DO NOTHING;

-- name: list-deliveries
SELECT id, event_id, subscriber_id, channel, status, attempts, next_attempt_at, lease_until,
       last_code, last_error, sent_at, sent_duration_ms, sent_response, created_at, updated_at
FROM deliveries
WHERE (? = '' OR event_id = ?) AND (? = '' OR subscriber_id = ?) AND (? = '' OR status = ?) AND id > ?
ORDER BY id LIMIT ?;

-- name: list-delivery-attempts
-- The attempts of exactly the page list-deliveries returned (same filter).
SELECT id, delivery_id, attempted_at, duration_ms, outcome, code, error, response
FROM delivery_attempts
WHERE delivery_id IN (
    SELECT id FROM deliveries
    WHERE (? = '' OR event_id = ?) AND (? = '' OR subscriber_id = ?) AND (? = '' OR status = ?) AND id > ?
    ORDER BY id LIMIT ?
)
ORDER BY delivery_id, id;

-- name: delivery-status
SELECT status FROM deliveries WHERE id = ?;

-- name: retry-delivery
-- A retried delivery starts a fresh retry schedule; its attempts stay logged.
UPDATE deliveries SET status = 'queued', attempts = 0, next_attempt_at = ?, last_error = '', updated_at = ?
WHERE id = ? AND status = 'dead';

-- name: retry-dead
UPDATE deliveries SET status = 'queued', attempts = 0, next_attempt_at = ?, last_error = '', updated_at = ?
WHERE status = 'dead' AND updated_at >= ?;

-- name: cancel-event-deliveries
UPDATE deliveries SET status = 'cancelled', last_error = 'cancelled by support', updated_at = ?
WHERE event_id = ? AND status IN ('queued', 'retrying');

-- name: event-delivery-counts
-- One row of counts, not GROUP BY status: a GROUP BY without an index on
-- the status sorts every row first, and SQLite's sorter held a
-- million-subscriber event's rows in memory.
SELECT COUNT(*) FILTER (WHERE status = 'queued') AS queued,
       COUNT(*) FILTER (WHERE status = 'sending') AS sending,
       COUNT(*) FILTER (WHERE status = 'sent') AS sent,
       COUNT(*) FILTER (WHERE status = 'retrying') AS retrying,
       COUNT(*) FILTER (WHERE status = 'dead') AS dead,
       COUNT(*) FILTER (WHERE status = 'suppressed') AS suppressed,
       COUNT(*) FILTER (WHERE status = 'cancelled') AS cancelled
FROM deliveries WHERE event_id = ?;

-- name: queue-depth
-- Only the live statuses: their partial index keeps this cheap on a table
-- of millions of finished rows. One row of counts rather than GROUP BY
-- status, whose sort of every live row (a million during a large
-- broadcast, every time the metrics were read) was the peak of the
-- process's memory.
SELECT COUNT(*) FILTER (WHERE status = 'queued') AS queued,
       COUNT(*) FILTER (WHERE status = 'sending') AS sending,
       COUNT(*) FILTER (WHERE status = 'retrying') AS retrying
FROM deliveries WHERE status IN ('queued', 'retrying', 'sending');

-- name: oldest-due-delivery
-- ORDER BY … LIMIT 1, not MIN(): SQLite types a MIN() as text, not a time.
-- Of one channel, so the answer is the first entry of deliveries_due_channel
-- at that channel; QueueStats asks once per channel and keeps the oldest.
SELECT next_attempt_at FROM deliveries
WHERE status IN ('queued', 'retrying') AND channel = ? AND next_attempt_at <= ?
ORDER BY next_attempt_at LIMIT 1;
