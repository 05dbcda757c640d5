-- The dashboard's payment page shows the events about one payment: its
-- own (data.id) and its refunds' (data.payment).
CREATE INDEX events_object_idx ON events (merchant_id, (data->>'id'));
CREATE INDEX events_payment_idx ON events (merchant_id, (data->>'payment')) WHERE data ? 'payment';
