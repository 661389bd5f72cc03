-- API keys may expire, and a stored prefix shows at most 4 characters.
--
-- expires_at, when set, is when a key stops working by itself (checked at
-- every request, like revoked_at).
--
-- Prefixes used to keep the first 9 characters of a key or source token,
-- and the whole of a token of 9 characters or fewer: in clear, to anyone
-- who could list them. They now keep 4 characters: those after a Herald
-- marker (hrld_, hsrc_), else the first 4; none of a short token (a stored
-- prefix under 9 characters was a whole token). The new form is what
-- gateway.SecretPrefix computes for keys made from now on.

-- +goose Up
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMP;

UPDATE api_keys SET prefix = CASE
    WHEN length(prefix) < 9 THEN ''
    WHEN substr(prefix, 1, 5) IN ('hrld_', 'hsrc_') THEN substr(prefix, 6, 4)
    ELSE substr(prefix, 1, 4) END;

UPDATE sources SET token_prefix = CASE
    WHEN length(token_prefix) < 9 THEN ''
    WHEN substr(token_prefix, 1, 5) IN ('hrld_', 'hsrc_') THEN substr(token_prefix, 6, 4)
    ELSE substr(token_prefix, 1, 4) END;

-- +goose Down
-- Forward-only: Herald never migrates down.
