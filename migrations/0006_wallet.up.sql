-- Wallet users, their sessions and passkeys, log-in lock-outs, the wallet's
-- own view of its money movements (the ledger holds the money itself) and
-- in-app notifications.

CREATE TABLE users (
    id             text PRIMARY KEY,
    email          text NOT NULL,
    first_name     text NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
    middle_name    text NOT NULL DEFAULT '' CHECK (length(middle_name) <= 100),
    last_name      text NOT NULL CHECK (length(last_name) BETWEEN 1 AND 100),
    phone          text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- A session is a signed cookie token naming a row here; the row is what
-- makes log-out final on every replica (Redis only caches it).
CREATE TABLE user_sessions (
    id          text PRIMARY KEY,
    user_id     text NOT NULL REFERENCES users (id),
    method      text NOT NULL CHECK (method IN ('password', 'passkey')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX user_sessions_user_id_idx ON user_sessions (user_id);
CREATE INDEX user_sessions_expires_at_idx ON user_sessions (expires_at);

-- Failed log-ins by e-mail address, whether or not a user has it, so a
-- lock-out answers the same for unknown addresses.
CREATE TABLE login_failures (
    email         text PRIMARY KEY,
    failures      integer NOT NULL CHECK (failures >= 0),
    locked_until  timestamptz,
    updated_at    timestamptz NOT NULL
);

-- WebAuthn credentials. credential is go-webauthn's record (public key,
-- flags, transports, AAGUID): nothing secret. sign_count only moves up.
CREATE TABLE passkeys (
    id             text PRIMARY KEY,
    user_id        text NOT NULL REFERENCES users (id),
    credential_id  bytea NOT NULL,
    credential     jsonb NOT NULL,
    sign_count     bigint NOT NULL CHECK (sign_count >= 0),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz
);
CREATE UNIQUE INDEX passkeys_credential_id_key ON passkeys (credential_id);
CREATE INDEX passkeys_user_id_idx ON passkeys (user_id);

-- Outstanding WebAuthn ceremonies, keyed by their challenge as the client
-- returns it; each is deleted when used (single use) and expires soon. A
-- confirmation's challenge is a hash of a server nonce and what it
-- confirms (amount, currency, payee), which are kept to check against the
-- request that presents it.
CREATE TABLE webauthn_challenges (
    challenge   text PRIMARY KEY,
    purpose     text NOT NULL CHECK (purpose IN ('register', 'login', 'confirm')),
    user_id     text REFERENCES users (id),
    session     jsonb NOT NULL,
    nonce       bytea,
    action      text,
    amount      bigint,
    currency    text,
    payee       text,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (purpose <> 'confirm' OR (user_id IS NOT NULL AND nonce IS NOT NULL AND action IS NOT NULL
                                    AND amount > 0 AND currency IS NOT NULL AND payee IS NOT NULL))
);
CREATE INDEX webauthn_challenges_expires_at_idx ON webauthn_challenges (expires_at);

-- One row per user per money movement, as the wallet's history shows it.
-- Both sides of a transfer have a row (transfer_out, transfer_in) sharing
-- the ledger reference.
CREATE TABLE wallet_transactions (
    id                        text PRIMARY KEY,
    user_id                   text NOT NULL REFERENCES users (id),
    type                      text NOT NULL CHECK (type IN ('topup', 'transfer_in', 'transfer_out', 'payment', 'refund')),
    status                    text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled')),
    amount                    bigint NOT NULL CHECK (amount > 0),
    currency                  text NOT NULL,
    counterparty_user_id      text REFERENCES users (id),
    counterparty_merchant_id  text REFERENCES merchants (id),
    counterparty              text,
    note                      text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    reference                 text NOT NULL,
    payment_id                text,
    card_brand                text,
    card_last4                text,
    failure_code              text,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX wallet_transactions_user_id_idx ON wallet_transactions (user_id, id DESC);
CREATE UNIQUE INDEX wallet_transactions_reference_key ON wallet_transactions (reference, type);
CREATE INDEX wallet_transactions_payment_id_idx ON wallet_transactions (payment_id) WHERE payment_id IS NOT NULL;

-- Top-ups whose card authorization is still to be captured. The row is
-- written in the top-up's transaction (with the credit) and deleted once the
-- processor confirmed the capture, so a card is captured exactly for the
-- top-ups that committed, even across crashes (a sweep captures leftovers).
CREATE TABLE wallet_pending_captures (
    processor_ref   text PRIMARY KEY,
    transaction_id  text NOT NULL REFERENCES wallet_transactions (id),
    amount          bigint NOT NULL CHECK (amount > 0),
    currency        text NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE INDEX wallet_pending_captures_created_at_idx ON wallet_pending_captures (created_at);

CREATE TABLE wallet_notifications (
    id              text PRIMARY KEY,
    user_id         text NOT NULL REFERENCES users (id),
    type            text NOT NULL,
    message         text NOT NULL,
    transaction_id  text REFERENCES wallet_transactions (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    read_at         timestamptz
);
CREATE INDEX wallet_notifications_user_id_idx ON wallet_notifications (user_id, id DESC);
CREATE INDEX wallet_notifications_unread_idx ON wallet_notifications (user_id) WHERE read_at IS NULL;

-- A payment of a link from a wallet: no card, no processor; the wallet
-- user who paid, so refunds go back to that wallet.
ALTER TABLE payments ADD COLUMN wallet_user_id text REFERENCES users (id);
ALTER TABLE payments ADD CONSTRAINT payments_wallet_user
    CHECK ((method_type = 'wallet') = (wallet_user_id IS NOT NULL));
