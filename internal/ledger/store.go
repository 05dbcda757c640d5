package ledger

const (
	// savepoint brackets a Post that creates accounts, so that if it is
	// rejected the new accounts go too.
	savepoint         = `SAVEPOINT ledger_post`
	releaseSavepoint  = `RELEASE SAVEPOINT ledger_post`
	rollbackSavepoint = `ROLLBACK TO SAVEPOINT ledger_post; RELEASE SAVEPOINT ledger_post`

	selectDuplicate = `
SELECT EXISTS (SELECT 1 FROM ledger_transactions WHERE kind = $1 AND reference = $2)`

	// ensureAccounts creates the accounts that do not exist yet, with their
	// zero shard rows, in the global account order (the same order as the
	// locks that follow, so creating accounts cannot deadlock either). The
	// NOT EXISTS filter spares the identity sequence for existing accounts.
	ensureAccounts = `
WITH want AS (
	SELECT w.kind, w.owner, w.currency, w.shards
	FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[]) AS w(kind, owner, currency, shards)
	WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a
	                  WHERE a.kind = w.kind AND a.owner = w.owner AND a.currency = w.currency)
	ORDER BY w.kind, w.owner, w.currency
), created AS (
	INSERT INTO ledger_accounts (kind, owner, currency, shards)
	SELECT kind, owner, currency, shards FROM want
	ON CONFLICT (kind, owner, currency) DO NOTHING
	RETURNING id, kind, shards
)
INSERT INTO ledger_balances (account_id, shard, kind, balance)
SELECT c.id, s.shard, c.kind, 0 FROM created c, generate_series(0, c.shards - 1) AS s(shard)`

	// lockOneShard locks one shard of an account that is credited, or of
	// an account that may go negative: the first shard no other transaction
	// holds, without waiting, looking from shard $4 (modulo the shard count)
	// upwards and then from 0, so that concurrent transactions don't all
	// step over the same held rows; only when every shard is held does it
	// wait for shard $4. It returns that shard.
	lockOneShard = `
WITH acct AS MATERIALIZED (
	SELECT id, $4::int % shards AS start FROM ledger_accounts WHERE kind = $1 AND owner = $2 AND currency = $3
), above AS MATERIALIZED (
	SELECT b.account_id, b.shard, b.balance FROM ledger_balances b
	WHERE b.account_id = (SELECT id FROM acct) AND b.shard >= (SELECT start FROM acct)
	ORDER BY b.shard
	LIMIT 1
	FOR UPDATE SKIP LOCKED
), below AS MATERIALIZED (
	SELECT b.account_id, b.shard, b.balance FROM ledger_balances b
	WHERE NOT EXISTS (SELECT 1 FROM above)
	  AND b.account_id = (SELECT id FROM acct) AND b.shard < (SELECT start FROM acct)
	ORDER BY b.shard
	LIMIT 1
	FOR UPDATE SKIP LOCKED
), waited AS MATERIALIZED (
	SELECT b.account_id, b.shard, b.balance FROM ledger_balances b
	WHERE NOT EXISTS (SELECT 1 FROM above) AND NOT EXISTS (SELECT 1 FROM below)
	  AND b.account_id = (SELECT id FROM acct) AND b.shard = (SELECT start FROM acct)
	FOR UPDATE
)
SELECT account_id, shard, balance FROM above
UNION ALL
SELECT account_id, shard, balance FROM below
UNION ALL
SELECT account_id, shard, balance FROM waited`

	// lockAllShards locks every shard of an account that is debited and may
	// not go negative, in shard order, and returns their balances.
	lockAllShards = `
SELECT b.account_id, b.shard, b.balance
FROM ledger_balances b
WHERE b.account_id = (SELECT id FROM ledger_accounts WHERE kind = $1 AND owner = $2 AND currency = $3)
ORDER BY b.shard
FOR UPDATE`

	// insertTransaction writes the transaction and all its postings in
	// one statement; the ledger_entries_post trigger then checks them and
	// applies them to the balances. It inserts nothing when (kind,
	// reference) was taken, by a concurrent transaction that committed.
	insertTransaction = `
WITH t AS (
	INSERT INTO ledger_transactions (id, kind, reference, entry_count) VALUES ($1, $2, $3, cardinality($4::bigint[]))
	ON CONFLICT (kind, reference) DO NOTHING
	RETURNING id
)
INSERT INTO ledger_entries (transaction_id, account_id, shard, amount)
SELECT t.id, p.account_id, p.shard, p.amount
FROM t, unnest($4::bigint[], $5::smallint[], $6::bigint[]) AS p(account_id, shard, amount)`

	// insertNewTransaction is insertTransaction for a reference that
	// cannot have been posted: a duplicate is a unique violation.
	insertNewTransaction = `
WITH t AS (
	INSERT INTO ledger_transactions (id, kind, reference, entry_count) VALUES ($1, $2, $3, cardinality($4::bigint[]))
	RETURNING id
)
INSERT INTO ledger_entries (transaction_id, account_id, shard, amount)
SELECT t.id, p.account_id, p.shard, p.amount
FROM t, unnest($4::bigint[], $5::smallint[], $6::bigint[]) AS p(account_id, shard, amount)`

	selectBalance = `
SELECT COALESCE(sum(b.balance), 0)::bigint
FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id
WHERE a.kind = $1 AND a.owner = $2 AND a.currency = $3`

	selectBalances = `
SELECT a.currency, COALESCE(sum(b.balance), 0)::bigint
FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id
WHERE a.kind = $1 AND a.owner = $2
GROUP BY a.currency
ORDER BY a.currency`

	// The checks of Verify; each runs as one statement, so each sees one
	// snapshot even outside a transaction.
	countLedger = `
SELECT (SELECT count(*) FROM ledger_accounts),
       (SELECT count(*) FROM ledger_transactions),
       (SELECT count(*) FROM ledger_entries)`

	// selectMismatches rebuilds every balance row from the postings. A row
	// or a posting whose counterpart is missing counts too.
	selectMismatches = `
SELECT COALESCE(a.kind, ''), COALESCE(a.owner, ''), COALESCE(a.currency, ''),
       COALESCE(b.shard, e.shard), COALESCE(b.balance, 0), COALESCE(e.total, 0)::bigint
FROM ledger_balances b
FULL JOIN (SELECT account_id, shard, sum(amount) AS total FROM ledger_entries GROUP BY account_id, shard) e
       ON e.account_id = b.account_id AND e.shard = b.shard
LEFT JOIN ledger_accounts a ON a.id = COALESCE(b.account_id, e.account_id)
WHERE COALESCE(b.balance, 0) <> COALESCE(e.total, 0)
ORDER BY 1, 2, 3, 4`

	// selectUnbalanced finds transactions whose postings don't sum to zero
	// in some currency.
	selectUnbalanced = `
SELECT e.transaction_id, COALESCE(t.kind, ''), COALESCE(t.reference, ''), COALESCE(a.currency, ''), sum(e.amount)::bigint
FROM ledger_entries e
LEFT JOIN ledger_transactions t ON t.id = e.transaction_id
LEFT JOIN ledger_accounts a ON a.id = e.account_id
GROUP BY e.transaction_id, t.kind, t.reference, a.currency
HAVING sum(e.amount) <> 0
ORDER BY 1, 4`

	// selectIncomplete finds transactions with more or fewer postings than
	// they were written with, and postings of no transaction.
	selectIncomplete = `
SELECT COALESCE(t.id, e.transaction_id), COALESCE(t.kind, ''), COALESCE(t.reference, ''),
       COALESCE(e.n, 0), COALESCE(t.entry_count, 0)
FROM ledger_transactions t
FULL JOIN (SELECT transaction_id, count(*) AS n FROM ledger_entries GROUP BY transaction_id) e
       ON e.transaction_id = t.id
WHERE COALESCE(e.n, 0) <> COALESCE(t.entry_count, 0)
ORDER BY 1`

	// selectOverdrawn finds negative balance rows of accounts that may not
	// go negative (a CHECK forbids them; this finds them if it was dropped).
	selectOverdrawn = `
SELECT a.kind, a.owner, a.currency, b.shard, b.balance
FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id
WHERE b.balance < 0 AND a.kind NOT IN ('card_in', 'card_out')
ORDER BY 1, 2, 3, 4`
)
