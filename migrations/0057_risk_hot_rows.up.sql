-- Every screened payment writes its decision to payment_risk (and an
-- elevated one a review) in the payment's transaction. Their foreign keys
-- took a KEY SHARE lock on the merchant's row and on the payment just
-- inserted: a lock record in the WAL each time, and a new multixact each
-- time payments to one merchant overlap, the contention 0008_hot_rows
-- removed from events. Nothing in Paylink deletes a merchant or a
-- payment, and these rows are only written with the payment they
-- describe, in its transaction, so the keys bought nothing but that cost:
-- without them the decision's insert took 0.20 ms instead of 0.39 ms and
-- wrote 3.0 WAL records instead of 5.9 (pg_stat_statements, checkout hot
-- shape; BENCHMARKS.md, stop 30).
ALTER TABLE payment_risk
    DROP CONSTRAINT payment_risk_payment_id_fkey,
    DROP CONSTRAINT payment_risk_merchant_id_fkey;
ALTER TABLE reviews
    DROP CONSTRAINT reviews_payment_id_fkey,
    DROP CONSTRAINT reviews_merchant_id_fkey;
