-- Realms: a merchant's own grouping of links and forms by site, carried
-- onto the payments made through them (copied by the payment's insert,
-- which reads the link or form anyway).
ALTER TABLE payment_links ADD COLUMN realm text CHECK (realm ~ '^[a-z0-9._-]{1,64}$');
ALTER TABLE payment_forms ADD COLUMN realm text CHECK (realm ~ '^[a-z0-9._-]{1,64}$');
ALTER TABLE payments ADD COLUMN realm text CHECK (realm ~ '^[a-z0-9._-]{1,64}$');

CREATE INDEX payment_links_realm_idx ON payment_links (merchant_id, realm, id DESC) WHERE realm IS NOT NULL;
CREATE INDEX payment_forms_realm_idx ON payment_forms (merchant_id, realm, id DESC) WHERE realm IS NOT NULL;
