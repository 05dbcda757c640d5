-- Payment links, payments, refunds, and the queue of authorizations still
-- to capture at the card processor.

-- A link's status is stored as active until something final happens;
-- "expired" is also computed on read from expires_at, and a periodic task
-- stores it (and records payment_link.expired) for links past expiry.
CREATE TABLE payment_links (
    id              text PRIMARY KEY,
    merchant_id     text NOT NULL REFERENCES merchants (id),
    amount          bigint NOT NULL CHECK (amount BETWEEN 1 AND 99999999),
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    description     text NOT NULL DEFAULT '',
    single_use      boolean NOT NULL,
    status          text NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'completed', 'expired', 'deactivated')),
    success_url     text,
    cancel_url      text,
    metadata        jsonb NOT NULL DEFAULT '{}',
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    completed_at    timestamptz,
    deactivated_at  timestamptz
);
CREATE INDEX payment_links_merchant_id_idx ON payment_links (merchant_id, id DESC);
CREATE INDEX payment_links_expiring_idx ON payment_links (expires_at) WHERE status = 'active';

-- Card data is never stored: only brand, last4, expiry and the processor's
-- keyed fingerprint. processor_ref is the authorization at the processor.
--
-- No foreign keys on merchant_id and payment_link_id: every insert takes
-- both from the payment_links row it reads in the same statement (and only
-- while the link is payable), and neither links nor merchants are ever
-- deleted. A foreign key would instead make each payment KEY SHARE-lock
-- its merchant's and link's rows, which under many concurrent payments to
-- one merchant means a tuple lock, a WAL record and a MultiXact per
-- payment on the same two hot rows.
CREATE TABLE payments (
    id                 text PRIMARY KEY,
    merchant_id        text NOT NULL,
    payment_link_id    text,
    single_use         boolean NOT NULL DEFAULT false,
    amount             bigint NOT NULL CHECK (amount > 0),
    currency           text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status             text NOT NULL
                       CHECK (status IN ('requires_action', 'processing', 'succeeded', 'failed', 'canceled')),
    amount_refunded    bigint NOT NULL DEFAULT 0,
    failure_code       text,
    customer_email     text NOT NULL,
    customer_name      text NOT NULL,
    method_type        text NOT NULL DEFAULT 'card',
    card_brand         text,
    card_last4         text CHECK (card_last4 ~ '^[0-9]{4}$'),
    card_exp_month     integer,
    card_exp_year      integer,
    card_fingerprint   text,
    processor_ref      text,
    challenge_outcome  text CHECK (challenge_outcome IN ('approve', 'fail')),
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    CONSTRAINT payments_refund_within_amount CHECK (amount_refunded BETWEEN 0 AND amount),
    CONSTRAINT payments_refund_only_succeeded CHECK (amount_refunded = 0 OR status = 'succeeded')
);
CREATE INDEX payments_merchant_id_idx ON payments (merchant_id, id DESC);
CREATE INDEX payments_link_idx ON payments (merchant_id, payment_link_id, id DESC);
CREATE UNIQUE INDEX payments_processor_ref_key ON payments (processor_ref);
-- The database, not only Go code, guarantees that a single-use link is
-- paid successfully at most once.
CREATE UNIQUE INDEX payments_single_use_once ON payments (payment_link_id) WHERE single_use AND status = 'succeeded';
-- Challenges left unfinished, for the sweep that resumes or cancels them.
CREATE INDEX payments_unfinished_idx ON payments (updated_at) WHERE status IN ('requires_action', 'processing');

-- Succeeded card payments whose authorization is still to be captured.
-- The row is written by the same statement as its payment and deleted once
-- the processor confirmed the capture, so money is captured exactly for
-- the payments that committed, even across crashes.
CREATE TABLE pending_captures (
    payment_id     text PRIMARY KEY,
    merchant_id    text NOT NULL,
    processor_ref  text NOT NULL,
    amount         bigint NOT NULL CHECK (amount > 0),
    currency       text NOT NULL,
    created_at     timestamptz NOT NULL
);

-- A refund is committed (ledger debit, amount_refunded, event) before the
-- processor is asked; sent_at is set once the processor confirmed it, and a
-- sweep sends the ones a crash left unsent.
CREATE TABLE refunds (
    id             text PRIMARY KEY,
    merchant_id    text NOT NULL REFERENCES merchants (id),
    payment_id     text NOT NULL REFERENCES payments (id),
    amount         bigint NOT NULL CHECK (amount > 0),
    currency       text NOT NULL,
    status         text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    processor_ref  text,
    created_at     timestamptz NOT NULL,
    sent_at        timestamptz
);
CREATE INDEX refunds_payment_id_idx ON refunds (payment_id, id DESC);
CREATE INDEX refunds_unsent_idx ON refunds (created_at) WHERE sent_at IS NULL;
