CREATE OR REPLACE FUNCTION paylink_merchant_accepts(p_merchant text, p_currency text, p_method text, p_brand text)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce((
        SELECT (m.currencies IS NULL OR p_currency = ANY (m.currencies))
           AND (p_method IS NULL OR m.payment_methods IS NULL OR p_method = ANY (m.payment_methods))
           AND (p_brand IS NULL OR p_method IS DISTINCT FROM 'card' OR m.card_brands IS NULL
                OR p_brand = ANY (m.card_brands))
        FROM merchants m WHERE m.id = p_merchant), false)
$$;
