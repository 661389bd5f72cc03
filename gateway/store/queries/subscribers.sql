-- Subscribers, their subscriptions, the suppression list, and the fan-out's
-- stream of recipients. Blocks marked "bulk" are written for one row; the
-- store repeats their VALUES tuple, or their IN (?) list, once per row.

-- name: insert-subscriber
-- A known (kind, address) inserts nothing: the caller then reads the row
-- that is there (a repeat subscribe is not an error).
INSERT INTO subscribers (id, kind, address, format, secret, status, all_components, token_nonce,
                         consent_source, confirmed_at, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (kind, address) DO NOTHING;

-- name: get-subscriber
SELECT id, kind, address, format, status, secret, all_components, token_nonce, consent_source,
       disabled_reason, permanent_failures, confirmed_at, unsubscribed_at, created_at, updated_at
FROM subscribers WHERE id = ?;

-- name: subscriber-by-address
SELECT id, kind, address, format, status, secret, all_components, token_nonce, consent_source,
       disabled_reason, permanent_failures, confirmed_at, unsubscribed_at, created_at, updated_at
FROM subscribers WHERE kind = ? AND address = ?;

-- name: lock-subscriber
-- The row a transaction is about to change; PostgreSQL overrides this with
-- FOR UPDATE, SQLite's single writer holds the database already.
SELECT id, kind, address, format, status, secret, all_components, token_nonce, consent_source,
       disabled_reason, permanent_failures, confirmed_at, unsubscribed_at, created_at, updated_at
FROM subscribers WHERE id = ?;

-- name: lock-subscriber-by-address
SELECT id, kind, address, format, status, secret, all_components, token_nonce, consent_source,
       disabled_reason, permanent_failures, confirmed_at, unsubscribed_at, created_at, updated_at
FROM subscribers WHERE kind = ? AND address = ?;

-- name: save-subscriber
-- Everything a service may change; permanent_failures belongs to the
-- dispatcher and is left alone.
UPDATE subscribers
SET format = ?, secret = ?, status = ?, all_components = ?, token_nonce = ?, consent_source = ?,
    disabled_reason = ?, confirmed_at = ?, unsubscribed_at = ?, updated_at = ?
WHERE id = ?;

-- name: delete-subscriber
-- Erasure: subscriptions, deliveries (with their attempts) and the
-- subscriber's own events go with it by ON DELETE CASCADE.
DELETE FROM subscribers WHERE id = ?;

-- name: confirmation-state
SELECT confirmation_sent_at, confirmations_sent FROM subscribers WHERE id = ?;

-- name: claim-confirmation
-- Conditional on the last mail being old enough, so that two concurrent
-- repeat subscribes of one address send one mail between them.
UPDATE subscribers SET confirmation_sent_at = ?, confirmations_sent = ?
WHERE id = ? AND (confirmation_sent_at IS NULL OR confirmation_sent_at <= ?);

-- name: list-subscribers
-- Newest first, keyset-paginated on (created_at, id); the search is a
-- case-insensitive substring of the address, of email addresses only when
-- the third parameter is false (webhook URLs are secrets to the caller).
-- A component id keeps those who hear about it: subscribed to everything,
-- to it, or to its group.
SELECT id, kind, address, format, status, secret, all_components, token_nonce, consent_source,
       disabled_reason, permanent_failures, confirmed_at, unsubscribed_at, created_at, updated_at
FROM subscribers
WHERE (? = '' OR LOWER(address) LIKE ? ESCAPE '\' AND (? OR kind = 'email')) AND (? = '' OR status = ?) AND (? = '' OR kind = ?)
  AND (? = '' OR all_components
       OR EXISTS (SELECT 1 FROM subscriptions s WHERE s.subscriber_id = subscribers.id AND s.component_id = ?)
       OR EXISTS (SELECT 1 FROM group_subscriptions g JOIN components c ON c.group_id = g.group_id
                  WHERE g.subscriber_id = subscribers.id AND c.id = ?))
  AND (created_at < ? OR (created_at = ? AND id < ?))
ORDER BY created_at DESC, id DESC
LIMIT ?;

-- name: subscriber-subscriptions
SELECT component_id FROM subscriptions WHERE subscriber_id = ? ORDER BY component_id;

-- name: subscriber-group-subscriptions
SELECT group_id FROM group_subscriptions WHERE subscriber_id = ? ORDER BY group_id;

-- name: group-subscriptions-of
-- bulk: IN (?) repeats per subscriber id.
SELECT subscriber_id, group_id FROM group_subscriptions WHERE subscriber_id IN (?) ORDER BY subscriber_id, group_id;

-- name: component-subscriptions-of
-- bulk: IN (?) repeats per subscriber id.
SELECT subscriber_id, component_id FROM subscriptions WHERE subscriber_id IN (?) ORDER BY subscriber_id, component_id;

-- name: set-all-components
UPDATE subscribers SET all_components = ?, updated_at = ? WHERE id = ?;

-- name: delete-subscriptions
DELETE FROM subscriptions WHERE subscriber_id = ?;

-- name: delete-group-subscriptions
DELETE FROM group_subscriptions WHERE subscriber_id = ?;

-- name: insert-subscriptions
-- bulk.
INSERT INTO subscriptions (subscriber_id, component_id, created_at) VALUES (?, ?, ?)
ON CONFLICT (subscriber_id, component_id) DO NOTHING;

-- name: insert-group-subscriptions
-- bulk.
INSERT INTO group_subscriptions (subscriber_id, group_id, created_at) VALUES (?, ?, ?)
ON CONFLICT (subscriber_id, group_id) DO NOTHING;

-- name: suppression
SELECT reason FROM suppressions WHERE address_hash = ?;

-- name: suppress-address
-- A stronger reason (a bounce, a complaint) replaces an unsubscribe, so
-- that a later re-subscription cannot lift it; otherwise the first stays.
INSERT INTO suppressions (address_hash, reason, detail, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT (address_hash) DO UPDATE SET reason = excluded.reason, detail = excluded.detail, created_at = excluded.created_at
WHERE suppressions.reason = 'unsubscribe' AND excluded.reason <> 'unsubscribe';

-- name: unsuppress-address
-- Lifts a suppression of one reason only (a re-subscription lifts an
-- unsubscribe, never a bounce or a complaint).
DELETE FROM suppressions WHERE address_hash = ? AND reason = ?;

-- name: delete-suppression
DELETE FROM suppressions WHERE address_hash = ?;

-- name: suppressed-among
-- bulk: IN (?) repeats per address hash.
SELECT address_hash FROM suppressions WHERE address_hash IN (?);

-- name: import-subscribers
-- bulk. Rows of known addresses insert nothing and are not returned: an
-- import run twice adds nothing.
-- A pending row counts its confirmation mail as sent, so the per-address
-- limit holds for a repeat subscribe right after the import.
INSERT INTO subscribers (id, kind, address, status, all_components, token_nonce, consent_source,
                         confirmed_at, confirmation_sent_at, confirmations_sent, created_at, updated_at)
VALUES (?, 'email', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (kind, address) DO NOTHING
RETURNING id;

-- name: import-events
-- bulk: the confirmation mails of imported, unconfirmed subscribers,
-- planned by the outbox loop (planned_at NULL).
INSERT INTO events (id, type, subscriber_id, all_subscribers, notify, payload, actor, created_at)
VALUES (?, 'subscriber.confirm', ?, FALSE, TRUE, ?, ?, ?);

-- name: export-subscribers
-- Keyset-paginated on id, so an export holds no long read transaction.
SELECT id, kind, address, format, status, secret, all_components, token_nonce, consent_source,
       disabled_reason, permanent_failures, confirmed_at, unsubscribed_at, created_at, updated_at
FROM subscribers WHERE id > ? ORDER BY id LIMIT ?;

-- name: stream-subscribers
-- Every IN (?) list repeats per component id (see StreamSubscribers). One
-- batch of the candidates after the last id seen: the whole-page
-- subscribers, the subscribers of a component, those of a component's
-- group; each branch reads its own index in id order
-- (subscribers_whole_page, subscriptions_component,
-- group_subscriptions_group) and stops at the batch size, so a batch costs
-- the same at the start and at the end of a million rows. Whether each
-- candidate may be sent to (active, not suppressed) comes back as a
-- column: the caller keeps the eligible ones and moves its cursor past
-- all of them.
WITH cand AS (
    SELECT id FROM (
        SELECT id FROM subscribers
        WHERE status = 'active' AND all_components = TRUE AND id > ?
        ORDER BY id LIMIT ?
    ) AS whole_page
    UNION
    SELECT subscriber_id FROM (
        SELECT DISTINCT su.subscriber_id FROM subscriptions su
        WHERE su.component_id IN (?) AND su.subscriber_id > ?
        ORDER BY su.subscriber_id LIMIT ?
    ) AS of_component
    UNION
    SELECT subscriber_id FROM (
        SELECT DISTINCT gs.subscriber_id FROM group_subscriptions gs
        WHERE gs.group_id IN (SELECT c.group_id FROM components c WHERE c.id IN (?)) AND gs.subscriber_id > ?
        ORDER BY gs.subscriber_id LIMIT ?
    ) AS of_group
), page AS (
    SELECT id FROM cand ORDER BY id LIMIT ?
)
SELECT s.id, s.kind, s.address, s.format, s.status, s.secret, s.all_components, s.token_nonce, s.consent_source,
       s.disabled_reason, s.permanent_failures, s.confirmed_at, s.unsubscribed_at, s.created_at, s.updated_at,
       CASE WHEN s.status = 'active' AND (s.kind <> 'email' OR NOT EXISTS (
           SELECT 1 FROM suppressions x WHERE x.address_hash = herald_sha256(s.address))) THEN 1 ELSE 0 END AS eligible
FROM page JOIN subscribers s ON s.id = page.id
ORDER BY s.id;

-- name: insert-setting-once
-- Get-or-create for settings: the first writer wins, every replica then
-- reads the winner's value (see SettingOrCreate).
INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
ON CONFLICT (key) DO NOTHING;
