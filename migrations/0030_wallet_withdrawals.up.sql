-- Wallet withdrawals: money sent from a wallet to a card. The withdrawal
-- moves the money at once from the wallet to the system account
-- payouts_in_flight (which may never go below zero); the worker then asks
-- the processor to pay the card and, exactly once, moves it on to card_out
-- (paid) or back to the wallet (refused).

ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check
    CHECK (kind IN ('merchant', 'wallet', 'card_in', 'card_out', 'payouts_in_flight'));
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_owner_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_owner_check CHECK (
    (kind IN ('card_in', 'card_out', 'payouts_in_flight') AND owner = '') OR
    (kind = 'merchant' AND owner LIKE 'mer\_%') OR
    (kind = 'wallet' AND owner LIKE 'usr\_%'));

ALTER TABLE wallet_transactions DROP CONSTRAINT wallet_transactions_type_check;
ALTER TABLE wallet_transactions ADD CONSTRAINT wallet_transactions_type_check
    CHECK (type IN ('topup', 'transfer_in', 'transfer_out', 'payment', 'refund', 'withdrawal'));
ALTER TABLE wallet_transactions DROP CONSTRAINT wallet_transactions_status_check;
ALTER TABLE wallet_transactions ADD CONSTRAINT wallet_transactions_status_check
    CHECK (status IN ('pending', 'requires_action', 'processing', 'succeeded', 'failed', 'canceled'));
CREATE INDEX wallet_transactions_user_status_idx ON wallet_transactions (user_id, status, id DESC);

-- One row per withdrawal: the outbox the worker settles from. card_sealed
-- is the card's number and expiry sealed with the platform's keyring (never
-- the CVC), kept only until the payout is settled.
CREATE TABLE wallet_payouts (
    id              text PRIMARY KEY REFERENCES wallet_transactions (id),
    user_id         text NOT NULL REFERENCES users (id),
    amount          bigint NOT NULL CHECK (amount > 0),
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    card_sealed     bytea,
    status          text NOT NULL CHECK (status IN ('processing', 'succeeded', 'failed')),
    failure_code    text,
    processor_ref   text,
    enqueued_at     timestamptz,
    created_at      timestamptz NOT NULL,
    settled_at      timestamptz,
    CHECK ((status = 'processing') = (settled_at IS NULL)),
    CHECK (status = 'processing' OR card_sealed IS NULL)
);
CREATE INDEX wallet_payouts_processing_idx ON wallet_payouts (created_at) WHERE status = 'processing';
