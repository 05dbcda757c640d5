-- Webhook endpoints, their deliveries and every delivery attempt; the relay
-- bookkeeping of the events and e-mail outboxes; the merchant's setting for
-- payment e-mails.

ALTER TABLE merchants ADD COLUMN payment_emails boolean NOT NULL DEFAULT false;

-- A random run of n Crockford base32 characters (5 bits each, from a v4
-- UUID's bytes; 79 random bits for n = 16), for ids made inside SQL.
CREATE FUNCTION paylink_random_b32(n integer) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT string_agg(substr('0123456789abcdefghjkmnpqrstvwxyz', get_byte(r.b, i % 16) % 32 + 1, 1), '' ORDER BY i)
    FROM (SELECT uuid_send(gen_random_uuid()) AS b) r, generate_series(0, n - 1) AS i
$$;

-- The secret is sealed (AES-256-GCM under the keyring, bound to the
-- endpoint id); after a rotation the previous one stays usable, and is sent
-- as a second signature, until previous_secret_expires_at.
CREATE TABLE webhook_endpoints (
    id                          text PRIMARY KEY,
    merchant_id                 text NOT NULL REFERENCES merchants (id),
    url                         text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    description                 text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    events                      text[] NOT NULL CHECK (cardinality(events) >= 1),
    secret_sealed               bytea NOT NULL,
    previous_secret_sealed      bytea,
    previous_secret_expires_at  timestamptz,
    status                      text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
    disabled_reason             text CHECK (disabled_reason IN ('gone', 'failing', 'merchant')),
    failing_since               timestamptz,
    created_at                  timestamptz NOT NULL,
    deleted_at                  timestamptz
);
CREATE INDEX webhook_endpoints_merchant_idx ON webhook_endpoints (merchant_id, id DESC) WHERE deleted_at IS NULL;

-- One row per (event, endpoint) hand-over; a redelivery adds new rows.
-- enqueued_at is set once the relay gave the row to Asynq; locked_until is
-- the lease of the worker making an attempt.
CREATE TABLE webhook_deliveries (
    id               text PRIMARY KEY,
    merchant_id      text NOT NULL,
    event_id         text NOT NULL REFERENCES events (id),
    endpoint_id      text NOT NULL REFERENCES webhook_endpoints (id),
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    locked_until     timestamptz,
    enqueued_at      timestamptz,
    created_at       timestamptz NOT NULL,
    completed_at     timestamptz
);
CREATE INDEX webhook_deliveries_unrelayed_idx ON webhook_deliveries (id) WHERE enqueued_at IS NULL AND status = 'pending';
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (merchant_id, event_id, id DESC);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (merchant_id, endpoint_id, id DESC);

CREATE TABLE webhook_attempts (
    delivery_id    text NOT NULL REFERENCES webhook_deliveries (id),
    n              integer NOT NULL CHECK (n >= 1),
    merchant_id    text NOT NULL,
    attempted_at   timestamptz NOT NULL,
    status_code    integer,
    latency_ms     integer NOT NULL,
    response_body  text NOT NULL DEFAULT '',
    error          text NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, n)
);

-- Events whose notifications (receipts, merchant payment e-mails) are not
-- yet derived. Events recorded before this migration need none.
ALTER TABLE events ADD COLUMN notified_at timestamptz;
UPDATE events SET notified_at = created_at;
CREATE INDEX events_unnotified_idx ON events (id) WHERE notified_at IS NULL;

-- E-mail relay bookkeeping. dedupe_key makes a message that must go out at
-- most once (a receipt per payment) impossible to queue twice.
ALTER TABLE emails
    ADD COLUMN dedupe_key   text,
    ADD COLUMN enqueued_at  timestamptz,
    ADD COLUMN attempts     integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error   text,
    ADD COLUMN failed_at    timestamptz;
CREATE UNIQUE INDEX emails_dedupe_key_key ON emails (dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX emails_unrelayed_idx ON emails (id) WHERE enqueued_at IS NULL AND sent_at IS NULL AND failed_at IS NULL;
