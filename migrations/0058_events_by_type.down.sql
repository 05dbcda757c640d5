DROP INDEX events_merchant_type_idx;
