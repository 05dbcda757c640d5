DROP TABLE paid_references;
DROP INDEX payments_reference_once;
DROP INDEX payments_form_idx;
ALTER TABLE payments DROP CONSTRAINT payments_one_source;
ALTER TABLE payments
    DROP COLUMN billing_address,
    DROP COLUMN customer_phone,
    DROP COLUMN merchant_reference,
    DROP COLUMN payment_form_id;
DROP TABLE payment_forms;
