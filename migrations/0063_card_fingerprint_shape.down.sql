-- The deleted items are not restored: they never matched a payment.
ALTER TABLE risk_list_items DROP CONSTRAINT risk_list_items_fingerprint_shape;
