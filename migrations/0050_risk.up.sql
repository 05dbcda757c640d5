-- Issue 22: every checkout payment is screened before it is charged. The
-- decision is kept beside the payment (one row per screened payment,
-- written in the payment's transaction), so payments stays as it was and
-- insights can count decisions without touching the payments table.
CREATE TABLE payment_risk (
    payment_id   text PRIMARY KEY REFERENCES payments (id),
    merchant_id  text NOT NULL REFERENCES merchants (id),
    score        smallint NOT NULL CHECK (score BETWEEN 0 AND 99),
    level        text NOT NULL CHECK (level IN ('normal', 'elevated', 'highest')),
    outcome      text NOT NULL CHECK (outcome IN ('allow', 'review', 'challenge', 'block')),
    reasons      text[] NOT NULL DEFAULT '{}',
    rule_id      text,
    model        text NOT NULL,
    review_id    text,
    -- what rules saw that the payment row does not keep (the counters,
    -- the customer's earlier payments, the client IP): backtests replay it
    signals      jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL
);
CREATE INDEX payment_risk_merchant_idx ON payment_risk (merchant_id, created_at DESC);

-- A merchant's rules (CEL expressions) and allow/block list items.
CREATE TABLE risk_rules (
    id           text PRIMARY KEY,
    -- the order rules are tried in: creation order, exact even for rules
    -- created in the same instant
    position     bigint GENERATED ALWAYS AS IDENTITY,
    merchant_id  text NOT NULL REFERENCES merchants (id),
    action       text NOT NULL CHECK (action IN ('allow', 'block', 'challenge', 'review')),
    expression   text NOT NULL,
    description  text NOT NULL DEFAULT '',
    enabled      boolean NOT NULL DEFAULT true,
    matches      bigint NOT NULL DEFAULT 0,
    errors       bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX risk_rules_merchant_idx ON risk_rules (merchant_id, position);

CREATE TABLE risk_list_items (
    id           text PRIMARY KEY,
    merchant_id  text NOT NULL REFERENCES merchants (id),
    list         text NOT NULL CHECK (list IN ('allow', 'block')),
    type         text NOT NULL CHECK (type IN ('email', 'email_domain', 'card_fingerprint', 'ip')),
    value        text NOT NULL,
    created_at   timestamptz NOT NULL,
    UNIQUE (merchant_id, list, type, value)
);

-- A merchant's rules and lists change rarely and are read on every
-- payment: each replica caches them per merchant and drops its copy when
-- this version moves (read with the screening's other inputs).
CREATE TABLE risk_versions (
    merchant_id  text PRIMARY KEY REFERENCES merchants (id),
    version      bigint NOT NULL
);

CREATE TABLE reviews (
    id             text PRIMARY KEY,
    merchant_id    text NOT NULL REFERENCES merchants (id),
    payment_id     text NOT NULL UNIQUE REFERENCES payments (id),
    status         text NOT NULL CHECK (status IN ('open', 'closed')),
    reason         text NOT NULL CHECK (reason IN ('rule', 'elevated_risk')),
    closed_reason  text CHECK (closed_reason IN ('approved', 'refunded')),
    created_at     timestamptz NOT NULL,
    closed_at      timestamptz
);
CREATE INDEX reviews_merchant_idx ON reviews (merchant_id, status, id DESC);
