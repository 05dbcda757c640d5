ALTER TABLE payments DROP COLUMN wallet_user_id;
DROP TABLE wallet_notifications;
DROP TABLE wallet_pending_captures;
DROP TABLE wallet_transactions;
DROP TABLE webauthn_challenges;
DROP TABLE passkeys;
DROP TABLE login_failures;
DROP TABLE user_sessions;
DROP TABLE users;
