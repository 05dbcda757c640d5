DROP INDEX idempotency_keys_secret_idx;
ALTER TABLE idempotency_keys DROP COLUMN sealed_redacted;
