CREATE INDEX wallet_notifications_unread_idx ON wallet_notifications (user_id) WHERE read_at IS NULL;
DROP INDEX wallet_notifications_unread_id_idx;
DROP INDEX reviews_merchant_id_idx;
