-- A stored answer that carries a secret (a new API key's, a webhook
-- endpoint's) keeps, sealed, a copy without it: replays show the secret for
-- an hour only, then this copy, and the hourly clean-up then replaces the
-- secret-bearing answer with it (package idempotency).
ALTER TABLE idempotency_keys ADD COLUMN sealed_redacted bytea;
CREATE INDEX idempotency_keys_secret_idx ON idempotency_keys (created_at) WHERE sealed_redacted IS NOT NULL;
