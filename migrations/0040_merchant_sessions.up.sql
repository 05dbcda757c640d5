-- Merchant dashboard sessions (issue 15). The cookie's token is
-- "<id>.<secret>"; only the secret's SHA-256 is stored. A session ends at
-- expires_at (absolute), after an idle gap longer than the service's idle
-- limit since last_seen_at, or when revoked (log-out, log-out everywhere,
-- revoked from the settings page).
CREATE TABLE merchant_sessions (
    id            text PRIMARY KEY,
    merchant_id   text NOT NULL REFERENCES merchants (id),
    token_hash    bytea NOT NULL,
    method        text NOT NULL,
    user_agent    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz
);
CREATE INDEX merchant_sessions_merchant_idx ON merchant_sessions (merchant_id, id DESC);
