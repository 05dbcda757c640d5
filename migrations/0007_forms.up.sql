-- Embeddable payment forms, and what a payment may belong to besides a
-- payment link: a form submission, or a stateless signed link identified
-- by the merchant's reference.

-- A form has either a fixed amount or a range the shopper chooses from.
-- allowed_origins are the merchant's sites (exact origins, normalised by
-- Go: lower-case, no default port) that may frame the form.
CREATE TABLE payment_forms (
    id               text PRIMARY KEY,
    merchant_id      text NOT NULL REFERENCES merchants (id),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    description      text NOT NULL DEFAULT '',
    currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount           bigint CHECK (amount BETWEEN 1 AND 99999999),
    amount_min       bigint CHECK (amount_min BETWEEN 1 AND 99999999),
    amount_max       bigint CHECK (amount_max BETWEEN 1 AND 99999999),
    collect          text[] NOT NULL,
    allowed_origins  text[] NOT NULL CHECK (cardinality(allowed_origins) BETWEEN 1 AND 10),
    success_url      text,
    metadata         jsonb NOT NULL DEFAULT '{}',
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    created_at       timestamptz NOT NULL,
    deactivated_at   timestamptz,
    CONSTRAINT payment_forms_amount_or_range CHECK (
        (amount IS NOT NULL AND amount_min IS NULL AND amount_max IS NULL)
        OR (amount IS NULL AND amount_min IS NOT NULL AND amount_max IS NOT NULL AND amount_min <= amount_max))
);
CREATE INDEX payment_forms_merchant_id_idx ON payment_forms (merchant_id, id DESC);

-- A payment belongs to at most one of: a payment link, a payment form, a
-- signed link's merchant reference. Forms may collect a phone number and
-- a billing address (never card data).
ALTER TABLE payments
    ADD COLUMN payment_form_id     text,
    ADD COLUMN merchant_reference  text CHECK (merchant_reference ~ '^[A-Za-z0-9._:-]{1,64}$'),
    ADD COLUMN customer_phone      text,
    ADD COLUMN billing_address     jsonb;
ALTER TABLE payments ADD CONSTRAINT payments_one_source
    CHECK (num_nonnulls(payment_link_id, payment_form_id, merchant_reference) <= 1);
CREATE INDEX payments_form_idx ON payments (merchant_id, payment_form_id, id DESC)
    WHERE payment_form_id IS NOT NULL;
-- One successful payment per (merchant, reference), enforced by the
-- database and not only by Go code.
CREATE UNIQUE INDEX payments_reference_once ON payments (merchant_id, merchant_reference)
    WHERE merchant_reference IS NOT NULL AND status = 'succeeded';

-- The references of signed links that have been paid. The insert of a
-- reference's row is the lock concurrent payers of one reference wait on
-- (INSERT … ON CONFLICT DO NOTHING waits for the other transaction), so
-- exactly one of them finds it free; the unique index above backs it up.
CREATE TABLE paid_references (
    merchant_id  text NOT NULL,
    reference    text NOT NULL,
    payment_id   text NOT NULL,
    paid_at      timestamptz NOT NULL,
    PRIMARY KEY (merchant_id, reference)
);
