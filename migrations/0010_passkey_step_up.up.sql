-- A step-up: the logged-in user confirms with an existing passkey before
-- adding or removing one. Its challenge is a hash of a server nonce, the
-- user and the action ("add_passkey", "remove_passkey:pk_…"), kept to check
-- against the request that presents it.
ALTER TABLE webauthn_challenges DROP CONSTRAINT webauthn_challenges_purpose_check;
ALTER TABLE webauthn_challenges ADD CONSTRAINT webauthn_challenges_purpose_check
    CHECK (purpose IN ('register', 'login', 'confirm', 'stepup'));
ALTER TABLE webauthn_challenges ADD CONSTRAINT webauthn_challenges_stepup_check
    CHECK (purpose <> 'stepup' OR (user_id IS NOT NULL AND nonce IS NOT NULL AND action IS NOT NULL));
