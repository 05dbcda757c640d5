DROP INDEX payment_forms_realm_idx;
DROP INDEX payment_links_realm_idx;
ALTER TABLE payments DROP COLUMN realm;
ALTER TABLE payment_forms DROP COLUMN realm;
ALTER TABLE payment_links DROP COLUMN realm;
