DROP INDEX reviews_merchant_id_idx;
