-- Merchants, their API keys, and the idempotency records every POST shares.

CREATE TABLE merchants (
    id             text PRIMARY KEY,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    email          text NOT NULL,
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX merchants_email_key ON merchants (lower(email));

-- An API key's secret is kept twice, neither in plaintext: a SHA-256 digest
-- to authenticate requests, and sealed (AES-256-GCM under a versioned
-- master key) so the server can verify HMACs a merchant makes with it.
CREATE TABLE api_keys (
    id             text PRIMARY KEY,
    merchant_id    text NOT NULL REFERENCES merchants (id),
    secret_digest  bytea NOT NULL,
    secret_sealed  bytea NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz,
    revoked_at     timestamptz
);
CREATE INDEX api_keys_merchant_id_idx ON api_keys (merchant_id, id DESC);

-- One row per (caller scope, Idempotency-Key), written in the same
-- transaction as the effect. The request fingerprint and the response body
-- are sealed together: some responses carry a secret that is shown once,
-- and a bare hash of a body could be brute-forced back to a card number or
-- password it contained.
CREATE TABLE idempotency_keys (
    scope          text NOT NULL,
    key            text NOT NULL,
    status         integer NOT NULL,
    sealed         bytea NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
