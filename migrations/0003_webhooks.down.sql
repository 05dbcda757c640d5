DROP INDEX emails_unrelayed_idx;
DROP INDEX emails_dedupe_key_key;
ALTER TABLE emails
    DROP COLUMN failed_at,
    DROP COLUMN last_error,
    DROP COLUMN attempts,
    DROP COLUMN enqueued_at,
    DROP COLUMN dedupe_key;
DROP INDEX events_unnotified_idx;
ALTER TABLE events DROP COLUMN notified_at;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP FUNCTION paylink_random_b32(integer);
ALTER TABLE merchants DROP COLUMN payment_emails;
