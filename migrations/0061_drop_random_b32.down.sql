CREATE FUNCTION paylink_random_b32(n integer) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT string_agg(substr('0123456789abcdefghjkmnpqrstvwxyz', get_byte(r.b, i % 16) % 32 + 1, 1), '' ORDER BY i)
    FROM (SELECT uuid_send(gen_random_uuid()) AS b) r, generate_series(0, n - 1) AS i
$$;
