-- Dashboard password resets: the single-use links "Forgot your
-- password?" e-mails a merchant, valid for an hour. Only the token's
-- SHA-256 is stored, so a copy of the table resets no one's password. A
-- reset, or a password change, marks every outstanding link of the
-- merchant used.
CREATE TABLE merchant_password_resets (
    token_hash   bytea PRIMARY KEY,
    merchant_id  text NOT NULL REFERENCES merchants (id),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX merchant_password_resets_outstanding_idx ON merchant_password_resets (merchant_id) WHERE used_at IS NULL;
