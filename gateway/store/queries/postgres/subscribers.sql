-- PostgreSQL's subscriber statements: row locks where SQLite's single
-- writer needs none.

-- name: lock-subscriber
SELECT id, kind, address, format, status, secret, all_components, token_nonce, consent_source,
       disabled_reason, permanent_failures, confirmed_at, unsubscribed_at, created_at, updated_at
FROM subscribers WHERE id = ? FOR UPDATE;

-- name: lock-subscriber-by-address
SELECT id, kind, address, format, status, secret, all_components, token_nonce, consent_source,
       disabled_reason, permanent_failures, confirmed_at, unsubscribed_at, created_at, updated_at
FROM subscribers WHERE kind = ? AND address = ? FOR UPDATE;
