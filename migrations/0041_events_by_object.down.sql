DROP INDEX events_payment_idx;
DROP INDEX events_object_idx;
