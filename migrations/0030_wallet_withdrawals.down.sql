DROP TABLE wallet_payouts;
DROP INDEX wallet_transactions_user_status_idx;
ALTER TABLE wallet_transactions DROP CONSTRAINT wallet_transactions_status_check;
ALTER TABLE wallet_transactions ADD CONSTRAINT wallet_transactions_status_check
    CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled'));
ALTER TABLE wallet_transactions DROP CONSTRAINT wallet_transactions_type_check;
ALTER TABLE wallet_transactions ADD CONSTRAINT wallet_transactions_type_check
    CHECK (type IN ('topup', 'transfer_in', 'transfer_out', 'payment', 'refund'));
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_owner_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_owner_check CHECK (
    (kind IN ('card_in', 'card_out') AND owner = '') OR
    (kind = 'merchant' AND owner LIKE 'mer\_%') OR
    (kind = 'wallet' AND owner LIKE 'usr\_%'));
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check
    CHECK (kind IN ('merchant', 'wallet', 'card_in', 'card_out'));
