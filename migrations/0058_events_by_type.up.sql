-- GET /v1/events?type=… read a merchant's events until it found a page of
-- the type: no index held the type, so a type the merchant had none of
-- scanned every event of every merchant (2.9 s at 10 million events;
-- BENCHMARKS.md, stop 32). With the type in an index after the merchant,
-- a page of one type is one index range, as a page of all types is in
-- events_merchant_id_idx.
CREATE INDEX events_merchant_type_idx ON events (merchant_id, type, id DESC);
