-- Lists are read newest first from one range of their owner's index
-- (postgres.Newest). Two lists had no such index:
--
-- GET /v1/reviews without a status (and the dashboard's queue of every
-- review): reviews_merchant_idx starts with the status, so that order meant
-- reading and sorting every review of the merchant, or walking the primary
-- key back through other merchants' newer reviews.
CREATE INDEX reviews_merchant_id_idx ON reviews (merchant_id, id DESC);

-- A wallet user's unread notifications: the partial index held only the
-- user, so a page of them was every unread notification of the user,
-- sorted. With the id it is a range in the list's order, and it still
-- serves marking them all read.
CREATE INDEX wallet_notifications_unread_id_idx ON wallet_notifications (user_id, id DESC) WHERE read_at IS NULL;
DROP INDEX wallet_notifications_unread_idx;
