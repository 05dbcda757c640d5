-- The transactional outbox: events and e-mails are written in the same
-- transaction as the change they report, and relayed to Asynq after commit.

CREATE TABLE events (
    id           text PRIMARY KEY,
    merchant_id  text NOT NULL REFERENCES merchants (id),
    type         text NOT NULL,
    data         jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_merchant_id_idx ON events (merchant_id, id DESC);

CREATE TABLE emails (
    id           text PRIMARY KEY,
    to_addr      text NOT NULL,
    subject      text NOT NULL,
    body         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz
);
CREATE INDEX emails_unsent_idx ON emails (id) WHERE sent_at IS NULL;
