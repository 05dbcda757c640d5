-- Finding payments and refunds. Every list is newest first (id DESC, ids
-- sort by creation time) and pages with id < starting_after, so each
-- filter has an index that starts with the merchant and ends with id:
-- a page is one index range, whatever the filter, at any table size.
--
--   status        payments_status_idx, except succeeded: most payments
--                 are, so payments_merchant_id_idx finds a page of them
--                 at once, and leaving them out keeps this index small
--                 and off the insert path of most payments
--   payment_link  payments_link_idx (0005); payment_form payments_form_idx (0007)
--   realm         payments_realm_idx
--   email         payments_email_idx (customer e-mail, lower-cased)
--   created_*     payments_merchant_id_idx: an id encodes its creation time,
--                 so a time range is an id range
--   amount_*      payments_amount_idx
CREATE INDEX payments_status_idx ON payments (merchant_id, status, id DESC) WHERE status <> 'succeeded';
CREATE INDEX payments_realm_idx ON payments (merchant_id, realm, id DESC) WHERE realm IS NOT NULL;
CREATE INDEX payments_email_idx ON payments (merchant_id, lower(customer_email), id DESC);
CREATE INDEX payments_amount_idx ON payments (merchant_id, amount, id DESC);

-- Why a refund was made, when the merchant said.
ALTER TABLE refunds ADD COLUMN reason text
    CHECK (reason IN ('requested_by_customer', 'duplicate', 'fraudulent'));
CREATE INDEX refunds_merchant_id_idx ON refunds (merchant_id, id DESC);
CREATE INDEX refunds_merchant_payment_idx ON refunds (merchant_id, payment_id, id DESC);
