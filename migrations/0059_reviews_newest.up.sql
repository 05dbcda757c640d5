-- GET /v1/reviews without a status (and the dashboard's queue of every
-- review) asks for a merchant's reviews newest first; reviews_merchant_idx
-- starts with the status, so that order meant reading and sorting every
-- review of the merchant, or walking the primary key back through other
-- merchants' newer reviews. This index gives it as one range.
CREATE INDEX reviews_merchant_id_idx ON reviews (merchant_id, id DESC);
