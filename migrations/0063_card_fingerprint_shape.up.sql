-- A card_fingerprint list item was only checked for base32 characters, so
-- a card number (its digits 2 to 7 are base32) could be stored in plain
-- text. No such item ever matched (every fingerprint is 26 characters):
-- they go, their merchants' caches reload, and the shape is enforced.
WITH gone AS (
    DELETE FROM risk_list_items
    WHERE type = 'card_fingerprint' AND value !~ '^[a-z2-7]{26}$'
    RETURNING merchant_id
)
UPDATE risk_versions SET version = version + 1
WHERE merchant_id IN (SELECT merchant_id FROM gone);

ALTER TABLE risk_list_items ADD CONSTRAINT risk_list_items_fingerprint_shape
    CHECK (type <> 'card_fingerprint' OR value ~ '^[a-z2-7]{26}$');
