-- Per-merchant daily rollups of risk screening (UTC days), written by the
-- worker for closed days only, so the payment path never updates a shared
-- row. Insights read these for whole days and payment_risk for the rest.
CREATE TABLE risk_daily (
    merchant_id         text NOT NULL REFERENCES merchants (id),
    day                 date NOT NULL,
    outcomes            jsonb NOT NULL DEFAULT '{}', -- {"allow": n, ...}
    blocked             jsonb NOT NULL DEFAULT '{}', -- {"EUR": minor units, ...}
    reasons             jsonb NOT NULL DEFAULT '{}', -- {"velocity_card": n, ...}
    fraudulent_refunds  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (merchant_id, day)
);

-- The last day every merchant's rollup is complete for (one row): days up
-- to it are read from risk_daily, a day without a row there had nothing.
CREATE TABLE risk_rollup_watermark (
    one   boolean PRIMARY KEY DEFAULT true CHECK (one),
    day   date NOT NULL
);

-- The rollup counts a merchant's fraudulent refunds of a day.
CREATE INDEX refunds_merchant_fraud_idx ON refunds (merchant_id, created_at) WHERE reason = 'fraudulent';
