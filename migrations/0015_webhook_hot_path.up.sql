-- Every payment of a merchant with a webhook endpoint inserts a delivery,
-- and every delivery attempt inserts an attempt row. Their foreign keys
-- cost each insert a lookup and a KEY SHARE lock on the referenced row:
-- the merchant's endpoint row, locked by every concurrent payment to that
-- merchant (a tuple lock, a WAL record and a MultiXact each time they
-- overlap, as migration 0008 found for merchants), and the delivery row an
-- attempt belongs to. These rows are written only by statements that read
-- the referenced rows themselves (webhook.Record, Redeliver, the attempt
-- recorders after claiming their delivery), endpoints are only ever
-- soft-deleted and events never, so the keys bought nothing but that cost.
-- Old attempts and deliveries are removed by the worker's retention job
-- (attempts first); nothing else deletes them.
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_event_id_fkey;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_endpoint_id_fkey;
ALTER TABLE webhook_attempts DROP CONSTRAINT webhook_attempts_delivery_id_fkey;

-- A delivery is updated twice: leased for its first attempt (locked_until,
-- which no index holds), then finished. Room on each page lets the first
-- update stay a heap-only tuple, which touches none of the five indexes.
ALTER TABLE webhook_deliveries SET (fillfactor = 80);
