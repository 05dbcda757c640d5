DROP INDEX refunds_merchant_payment_idx;
DROP INDEX refunds_merchant_id_idx;
ALTER TABLE refunds DROP COLUMN reason;
DROP INDEX payments_amount_idx;
DROP INDEX payments_email_idx;
DROP INDEX payments_realm_idx;
DROP INDEX payments_status_idx;
