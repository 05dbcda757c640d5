DROP TABLE merchant_sessions;
