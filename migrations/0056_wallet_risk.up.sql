-- Issue 22: wallet top-ups and withdrawals are screened with the
-- platform's own signals before anything is charged or paid out. The
-- decision is kept beside the wallet transaction (one row per screened
-- transaction, written in its transaction), as payment_risk is beside a
-- payment; wallet users never see it.
CREATE TABLE wallet_risk (
    transaction_id  text PRIMARY KEY REFERENCES wallet_transactions (id),
    user_id         text NOT NULL REFERENCES users (id),
    score           smallint NOT NULL CHECK (score BETWEEN 0 AND 99),
    level           text NOT NULL CHECK (level IN ('normal', 'elevated', 'highest')),
    outcome         text NOT NULL CHECK (outcome IN ('allow', 'review', 'challenge', 'block')),
    reasons         text[] NOT NULL DEFAULT '{}',
    model           text NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE INDEX wallet_risk_created_idx ON wallet_risk (created_at DESC);

-- An elevated-risk withdrawal is held: the worker relays its payout only
-- once hold_until has passed (NULL: not held).
ALTER TABLE wallet_payouts ADD COLUMN hold_until timestamptz;
