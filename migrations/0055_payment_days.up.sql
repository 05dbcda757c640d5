-- Per-merchant daily totals of payments (UTC days, per currency), written
-- by the worker for closed days whose payments are all final, so the
-- dashboard's home reads a month of a busy merchant in a few rows instead
-- of every payment. Final payments never change status, so a rolled-up
-- day stays true.
CREATE TABLE payment_days (
    merchant_id  text NOT NULL REFERENCES merchants (id),
    day          date NOT NULL,
    currency     text NOT NULL,
    count        bigint NOT NULL,
    succeeded    bigint NOT NULL,
    volume       bigint NOT NULL, -- minor units of the succeeded payments
    PRIMARY KEY (merchant_id, day, currency)
);

-- The days payment_days covers for every merchant, first to last (one
-- row): a day in that range without a row had no payment.
CREATE TABLE payment_days_cover (
    one    boolean PRIMARY KEY DEFAULT true CHECK (one),
    first  date NOT NULL,
    last   date NOT NULL
);
