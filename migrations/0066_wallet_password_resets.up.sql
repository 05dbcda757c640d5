-- A wallet user's request to set a new password without the old one: the
-- e-mailed link carries a random token, of which only the SHA-256 is kept.
-- A token works once (used_at) and until expires_at; setting a password
-- marks every outstanding token of the user used.
CREATE TABLE wallet_password_resets (
    id          text PRIMARY KEY,
    user_id     text NOT NULL REFERENCES users (id),
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX wallet_password_resets_user_idx ON wallet_password_resets (user_id, created_at);
