DROP TABLE wallet_password_resets;
