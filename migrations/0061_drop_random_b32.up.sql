-- paylink_random_b32 (0003) made ids inside SQL; nothing calls it since
-- webhook deliveries derive their ids from the event's (internal/webhook).
DROP FUNCTION paylink_random_b32(integer);
