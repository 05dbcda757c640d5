DROP TABLE merchant_password_resets;
