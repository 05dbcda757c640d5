DROP TABLE payment_days_cover;
DROP TABLE payment_days;
