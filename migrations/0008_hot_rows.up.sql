-- Every payment wrote an event (and every wallet payment a wallet
-- transaction) whose foreign key to merchants took a KEY SHARE lock on the
-- merchant's row: a lock record in the WAL each time, and a new multixact
-- each time payments to one merchant overlap, so a popular merchant's row
-- became a point that every one of its payments had to pass. Merchants are
-- never deleted (nothing in Paylink deletes one), and these rows are only
-- written by code that has just read the merchant, so the keys bought
-- nothing but that contention.
ALTER TABLE events DROP CONSTRAINT events_merchant_id_fkey;
ALTER TABLE wallet_transactions DROP CONSTRAINT wallet_transactions_counterparty_merchant_id_fkey;
