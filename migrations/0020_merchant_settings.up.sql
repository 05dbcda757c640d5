-- What a merchant accepts and how it is told, and API keys with names,
-- scopes and an expiry (a rolled key keeps working until then).

-- currencies, payment_methods and card_brands are NULL until the merchant
-- sets them: NULL means everything the platform offers, so a merchant who
-- never chose follows the platform (its configured currencies, every
-- method and brand). A list the merchant set is never empty.
-- notification_email is NULL for the sign-up e-mail. notify_on starts as
-- the API's default for new merchants; an existing merchant keeps what
-- payment_emails said, so nobody starts receiving e-mails they did not
-- ask for.
ALTER TABLE merchants
    ADD COLUMN currencies          text[] CHECK (cardinality(currencies) > 0),
    ADD COLUMN payment_methods     text[] CHECK (cardinality(payment_methods) > 0),
    ADD COLUMN card_brands         text[] CHECK (cardinality(card_brands) > 0),
    ADD COLUMN notification_email  text,
    ADD COLUMN notify_on           text[] NOT NULL DEFAULT '{payment.succeeded}';
UPDATE merchants SET notify_on = '{}' WHERE NOT payment_emails;

-- paylink_merchant_accepts reports whether merchant p_merchant takes a
-- payment in p_currency by p_method with a card of p_brand; a NULL
-- method is not checked, and the brand only for card payments. Payments' and links' inserts call it in
-- the same statement, so a setting changed by any replica applies to the
-- next insert. An unknown merchant accepts nothing.
CREATE FUNCTION paylink_merchant_accepts(p_merchant text, p_currency text, p_method text, p_brand text)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce((
        SELECT (m.currencies IS NULL OR p_currency = ANY (m.currencies))
           AND (p_method IS NULL OR m.payment_methods IS NULL OR p_method = ANY (m.payment_methods))
           AND (p_brand IS NULL OR p_method IS DISTINCT FROM 'card' OR m.card_brands IS NULL
                OR p_brand = ANY (m.card_brands))
        FROM merchants m WHERE m.id = p_merchant), false)
$$;

-- scopes is NULL for a key with full access. expires_at is set when the
-- key is rolled: it works until then and is refused after.
ALTER TABLE api_keys
    ADD COLUMN name        text NOT NULL DEFAULT '' CHECK (length(name) <= 100),
    ADD COLUMN scopes      text[] CHECK (cardinality(scopes) > 0),
    ADD COLUMN expires_at  timestamptz;
