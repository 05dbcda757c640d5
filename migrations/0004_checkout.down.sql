DROP TABLE refunds;
DROP TABLE pending_captures;
DROP TABLE payments;
DROP TABLE payment_links;
