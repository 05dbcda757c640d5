ALTER TABLE api_keys DROP COLUMN expires_at, DROP COLUMN scopes, DROP COLUMN name;
DROP FUNCTION paylink_merchant_accepts(text, text, text, text);
ALTER TABLE merchants
    DROP COLUMN notify_on,
    DROP COLUMN notification_email,
    DROP COLUMN card_brands,
    DROP COLUMN payment_methods,
    DROP COLUMN currencies;
