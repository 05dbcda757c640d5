DROP TABLE ledger_entries;
DROP TABLE ledger_transactions;
DROP TABLE ledger_balances;
DROP TABLE ledger_accounts;
DROP FUNCTION ledger_entries_post();
DROP FUNCTION ledger_transactions_complete();
DROP FUNCTION ledger_append_only();
DROP FUNCTION ledger_balances_guard();
