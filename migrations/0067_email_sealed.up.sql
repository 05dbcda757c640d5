-- An e-mail whose text carries a credential (a password reset link) keeps
-- it sealed (AES-GCM under PAYLINK_ENCRYPTION_KEYS, the e-mail's id as
-- associated data) instead of in body, which is then empty: a copy of
-- the outbox resets no one's password.
ALTER TABLE emails ADD COLUMN body_sealed bytea;
