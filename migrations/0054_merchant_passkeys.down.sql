ALTER TABLE webauthn_challenges DROP COLUMN stepped_up;
DROP TABLE merchant_webauthn_challenges;
DROP TABLE merchant_passkeys;
