-- Merchants' passkeys for the dashboard (issue 15). They live apart from
-- wallet users' (passkeys, webauthn_challenges) so that neither audience's
-- queries can ever find the other's credentials or ceremonies: a wallet
-- passkey cannot log in to the dashboard, nor a merchant's to the wallet.
-- credential is go-webauthn's record (public key, flags, transports,
-- AAGUID): nothing secret. sign_count only moves up.
CREATE TABLE merchant_passkeys (
    id             text PRIMARY KEY,
    merchant_id    text NOT NULL REFERENCES merchants (id),
    credential_id  bytea NOT NULL,
    credential     jsonb NOT NULL,
    sign_count     bigint NOT NULL CHECK (sign_count >= 0),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_at     timestamptz NOT NULL,
    last_used_at   timestamptz
);
CREATE UNIQUE INDEX merchant_passkeys_credential_id_key ON merchant_passkeys (credential_id);
CREATE INDEX merchant_passkeys_merchant_id_idx ON merchant_passkeys (merchant_id);

-- Outstanding WebAuthn ceremonies of merchants, as webauthn_challenges
-- for wallet users (merchants confirm no payments: no 'confirm').
CREATE TABLE merchant_webauthn_challenges (
    challenge    text PRIMARY KEY,
    purpose      text NOT NULL CHECK (purpose IN ('register', 'login', 'stepup')),
    merchant_id  text REFERENCES merchants (id),
    session      jsonb NOT NULL,
    nonce        bytea,
    action       text,
    amount       bigint,
    currency     text,
    payee        text,
    stepped_up   boolean NOT NULL DEFAULT false,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL,
    CHECK (purpose <> 'stepup' OR (merchant_id IS NOT NULL AND nonce IS NOT NULL AND action IS NOT NULL)),
    CHECK (purpose <> 'register' OR merchant_id IS NOT NULL)
);
CREATE INDEX merchant_webauthn_challenges_expires_at_idx ON merchant_webauthn_challenges (expires_at);

-- A registration challenge issued after a step-up (the owner re-confirmed
-- their password or a passkey when beginning) needs no other at the end.
ALTER TABLE webauthn_challenges ADD COLUMN stepped_up boolean NOT NULL DEFAULT false;
