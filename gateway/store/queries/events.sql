-- Events and the planner, which turns an event into its deliveries.

-- name: insert-event
-- A repeated idempotency key inserts nothing: the caller then reads the
-- first event back (CreateEventOnce) or reports a conflict (insertEvent).
INSERT INTO events (id, type, incident_id, incident_update_id, component_id, subscriber_id,
                    all_subscribers, notify, payload, idempotency_key, actor, created_at)
VALUES (?, ?, NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), ?, ?, ?, NULLIF(?, ''), ?, ?)
ON CONFLICT (idempotency_key) DO NOTHING;

-- name: insert-event-component
INSERT INTO event_components (event_id, component_id) VALUES (?, ?);

-- name: get-event
SELECT id, type, COALESCE(incident_id, '') AS incident_id, COALESCE(incident_update_id, '') AS incident_update_id,
       COALESCE(component_id, '') AS component_id, COALESCE(subscriber_id, '') AS subscriber_id,
       all_subscribers, notify, payload, COALESCE(idempotency_key, '') AS idempotency_key, actor, created_at, planned_at
FROM events WHERE id = ?;

-- name: event-by-idempotency-key
SELECT id FROM events WHERE idempotency_key = ?;

-- name: event-component-ids
SELECT component_id FROM event_components WHERE event_id = ? ORDER BY component_id;

-- name: unplanned-events
SELECT id FROM events WHERE planned_at IS NULL ORDER BY created_at LIMIT ?;

-- name: mark-event-planned
-- Taken first in the planning transaction of a single-subscriber event (on
-- PostgreSQL the row lock makes a second replica planning the same event
-- wait, then find it planned), and last, after its parts, for the others.
UPDATE events SET planned_at = ? WHERE id = ? AND planned_at IS NULL;

-- name: lock-unplanned-event
-- Taken first in each part's transaction: it changes nothing, but it
-- affects a row only while the event is unplanned, and on PostgreSQL it
-- holds the event's row lock until the part commits, so that cancelling the
-- event (which marks it planned) waits for the part, then cancels its
-- deliveries too, and the next part finds the event planned and stops.
UPDATE events SET planned_at = NULL WHERE id = ? AND planned_at IS NULL;

-- name: event-plan-state
SELECT notify, COALESCE(subscriber_id, '') AS subscriber_id, planned_at IS NOT NULL AS planned
FROM events WHERE id = ?;

-- name: plan-part-end
-- The last subscriber id of the part after the given id: the subscriber
-- OFFSET part size - 1 in id order. No row: the part runs to the last
-- (plan-parts-last).
SELECT id FROM subscribers WHERE id > ? ORDER BY id LIMIT 1 OFFSET ?;

-- name: event-exists
SELECT COUNT(*) FROM events WHERE id = ?;

-- name: event-targets
-- The subscribers an event reaches, as a WITH clause that plan-event and
-- count-event-recipients both include, so a dry run counts exactly what
-- the planner inserts: the event's own subscriber (confirmation, test)
-- whatever its status; else the active subscribers of everything, of the
-- whole page, of an affected component or of its group.
WITH ev AS (
    SELECT id, subscriber_id, all_subscribers FROM events WHERE id = ? AND notify = TRUE
), targets AS (
    -- The branches are disjoint, so no subscriber is selected twice and
    -- nothing needs de-duplicating: the event's own subscriber; everyone
    -- active; the whole-page subscribers; those of an affected component
    -- or of its group.
    SELECT s.id, s.kind, s.address FROM ev JOIN subscribers s ON s.id = ev.subscriber_id
    UNION ALL
    SELECT s.id, s.kind, s.address FROM ev, subscribers s
    WHERE ev.subscriber_id IS NULL AND ev.all_subscribers = TRUE AND s.status = 'active'
    UNION ALL
    SELECT s.id, s.kind, s.address FROM ev, subscribers s
    WHERE ev.subscriber_id IS NULL AND ev.all_subscribers = FALSE AND s.status = 'active' AND s.all_components = TRUE
    UNION ALL
    SELECT s.id, s.kind, s.address FROM ev, subscribers s
    WHERE ev.subscriber_id IS NULL AND ev.all_subscribers = FALSE AND s.status = 'active' AND s.all_components = FALSE
      AND s.id IN (
          SELECT su.subscriber_id FROM event_components ec
          JOIN subscriptions su ON su.component_id = ec.component_id
          WHERE ec.event_id IN (SELECT id FROM ev)
          UNION
          SELECT gs.subscriber_id FROM event_components ec
          JOIN components c ON c.id = ec.component_id
          JOIN group_subscriptions gs ON gs.group_id = c.group_id
          WHERE ec.event_id IN (SELECT id FROM ev)
      )
)

-- name: plan-event
-- One delivery per (event, subscriber, channel), set-wise, for the event's
-- targets; suppressed email addresses never get a row.
-- include: event-targets
INSERT INTO deliveries (event_id, subscriber_id, channel, status, attempts, next_attempt_at, created_at, updated_at)
SELECT ev.id, t.id, t.kind, 'queued', 0, ?, ?, ?
FROM ev, targets t
WHERE t.kind <> 'email' OR NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.address_hash = herald_sha256(t.address))
ON CONFLICT (event_id, subscriber_id, channel) DO NOTHING;

-- name: event-targets-part
-- event-targets restricted to the subscribers whose id is in (?, ?]: one
-- part of planning. The same branches (TestPlanSelectsTheRightSubscribers
-- plans in parts and compares with the dry run, which reads event-targets),
-- but status is compared as an expression, status || '', which no index
-- serves: the only index left to the planners (SQLite's, and PostgreSQL's
-- with statistics or without, as right after an import) is the primary
-- key's range, so a part reads its own subscribers rather than every
-- active one through subscribers_active, which would make each part cost
-- what the whole does.
WITH ev AS (
    SELECT id, subscriber_id, all_subscribers FROM events WHERE id = ? AND notify = TRUE
), part AS (
    SELECT ? AS after, ? AS through
), targets AS (
    SELECT s.id, s.kind, s.address FROM ev JOIN subscribers s ON s.id = ev.subscriber_id
    WHERE s.id > (SELECT after FROM part) AND s.id <= (SELECT through FROM part)
    UNION ALL
    SELECT s.id, s.kind, s.address FROM ev, subscribers s
    WHERE s.id > (SELECT after FROM part) AND s.id <= (SELECT through FROM part)
      AND ev.subscriber_id IS NULL AND ev.all_subscribers = TRUE AND (s.status || '') = 'active'
    UNION ALL
    SELECT s.id, s.kind, s.address FROM ev, subscribers s
    WHERE s.id > (SELECT after FROM part) AND s.id <= (SELECT through FROM part)
      AND ev.subscriber_id IS NULL AND ev.all_subscribers = FALSE AND (s.status || '') = 'active' AND s.all_components = TRUE
    UNION ALL
    SELECT s.id, s.kind, s.address FROM ev, subscribers s
    WHERE s.id > (SELECT after FROM part) AND s.id <= (SELECT through FROM part)
      AND ev.subscriber_id IS NULL AND ev.all_subscribers = FALSE AND (s.status || '') = 'active' AND s.all_components = FALSE
      AND s.id IN (
          SELECT su.subscriber_id FROM event_components ec
          JOIN subscriptions su ON su.component_id = ec.component_id
          WHERE ec.event_id IN (SELECT id FROM ev)
          UNION
          SELECT gs.subscriber_id FROM event_components ec
          JOIN components c ON c.id = ec.component_id
          JOIN group_subscriptions gs ON gs.group_id = c.group_id
          WHERE ec.event_id IN (SELECT id FROM ev)
      )
)

-- name: plan-event-part
-- plan-event over one part's subscribers.
-- include: event-targets-part
INSERT INTO deliveries (event_id, subscriber_id, channel, status, attempts, next_attempt_at, created_at, updated_at)
SELECT ev.id, t.id, t.kind, 'queued', 0, ?, ?, ?
FROM ev, targets t
WHERE t.kind <> 'email' OR NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.address_hash = herald_sha256(t.address))
ON CONFLICT (event_id, subscriber_id, channel) DO NOTHING;

-- name: plan-parts-last
-- The last subscriber id: the end of the last part. A subscriber added
-- with a later id while an event is being planned came after the event.
SELECT COALESCE(MAX(id), '') FROM subscribers;

-- name: count-event-recipients
-- The planner's selection, counted: what a dry run reports.
-- include: event-targets
SELECT COUNT(*)
FROM ev, targets t
WHERE t.kind <> 'email' OR NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.address_hash = herald_sha256(t.address));

-- name: count-event-deliveries
SELECT COUNT(*) FROM deliveries WHERE event_id = ?;
