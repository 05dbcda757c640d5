-- The double-entry ledger. Every money movement is one row in
-- ledger_transactions with postings in ledger_entries that sum to zero per
-- currency. An account's balance is split into shard rows in
-- ledger_balances so that many payments into one account need not wait for
-- one row lock (see internal/ledger's package comment). The database itself
-- refuses what must never happen: unbalanced transactions, edited or deleted
-- postings, balances written other than by posting, and negative balances
-- on merchant and wallet accounts.

CREATE TABLE ledger_accounts (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind      text NOT NULL CHECK (kind IN ('merchant', 'wallet', 'card_in', 'card_out')),
    owner     text NOT NULL,
    currency  text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    shards    smallint NOT NULL CHECK (shards BETWEEN 1 AND 256),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_accounts_owner_check CHECK (
        (kind IN ('card_in', 'card_out') AND owner = '') OR
        (kind = 'merchant' AND owner LIKE 'mer\_%') OR
        (kind = 'wallet' AND owner LIKE 'usr\_%')),
    CONSTRAINT ledger_accounts_kind_owner_currency_key UNIQUE (kind, owner, currency),
    -- The target of ledger_balances' (account_id, kind) reference.
    CONSTRAINT ledger_accounts_id_kind_key UNIQUE (id, kind)
);

-- One row per shard of an account; the account's balance is their sum.
-- kind is copied from the account (and pinned to it by the foreign key) so
-- that the no-overdraft rule can be a CHECK on every stored balance row.
CREATE TABLE ledger_balances (
    account_id bigint NOT NULL,
    shard      smallint NOT NULL CHECK (shard >= 0),
    kind       text NOT NULL,
    balance    bigint NOT NULL,
    PRIMARY KEY (account_id, shard),
    FOREIGN KEY (account_id, kind) REFERENCES ledger_accounts (id, kind),
    CONSTRAINT ledger_balances_no_overdraft CHECK (balance >= 0 OR kind IN ('card_in', 'card_out'))
) WITH (fillfactor = 50); -- room for HOT updates of the hot rows

CREATE TABLE ledger_transactions (
    id          text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,39}$'),
    reference   text NOT NULL CHECK (length(reference) BETWEEN 1 AND 255),
    -- How many ledger_entries rows the transaction has; checked when they
    -- are inserted and again at commit, so none can be added or missing.
    entry_count integer NOT NULL CHECK (entry_count >= 2),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_transactions_kind_reference_key UNIQUE (kind, reference)
);

-- A posting: amount added to one shard of one account (negative takes
-- away). One leg of a transaction may be spread over several shards.
CREATE TABLE ledger_entries (
    transaction_id text NOT NULL REFERENCES ledger_transactions (id),
    account_id     bigint NOT NULL,
    shard          smallint NOT NULL,
    amount         bigint NOT NULL CHECK (amount <> 0),
    PRIMARY KEY (transaction_id, account_id, shard),
    FOREIGN KEY (account_id, shard) REFERENCES ledger_balances (account_id, shard)
);

-- Posting: every statement inserting entries must leave each transaction it
-- touches complete (entry_count rows) and summing to zero per currency; the
-- entries are then added to their balance rows. This is the only way a
-- balance changes.
CREATE FUNCTION ledger_entries_post() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    SELECT t.id INTO bad
    FROM ledger_transactions t
    WHERE t.id IN (SELECT transaction_id FROM new_entries)
      AND (t.entry_count <> (SELECT count(*) FROM ledger_entries e WHERE e.transaction_id = t.id)
           OR EXISTS (SELECT 1
                      FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
                      WHERE e.transaction_id = t.id
                      GROUP BY a.currency
                      HAVING sum(e.amount) <> 0))
    LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced or incomplete', bad
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_transactions_balanced';
    END IF;
    UPDATE ledger_balances b SET balance = b.balance + n.amount
    FROM (SELECT account_id, shard, sum(amount)::bigint AS amount
          FROM new_entries GROUP BY account_id, shard) n
    WHERE b.account_id = n.account_id AND b.shard = n.shard;
    RETURN NULL;
END $$;

CREATE TRIGGER ledger_entries_post AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_post();

-- At commit, every transaction inserted has all its entries: a
-- transaction row without entries cannot be committed.
CREATE FUNCTION ledger_transactions_complete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM ledger_entries WHERE transaction_id = NEW.id) <> NEW.entry_count THEN
        RAISE EXCEPTION 'ledger transaction % has not got its % entries', NEW.id, NEW.entry_count
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_transactions_balanced';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_transactions_complete AFTER INSERT ON ledger_transactions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transactions_complete();

-- Append-only: postings, transactions and accounts are never changed or
-- removed.
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: the ledger is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation', CONSTRAINT = TG_TABLE_NAME || '_append_only';
END $$;

CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_accounts_append_only BEFORE UPDATE OR DELETE ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_accounts_no_truncate BEFORE TRUNCATE ON ledger_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- Balance rows start at zero, are never removed, and change only inside
-- ledger_entries_post (trigger depth 2), so a balance is always the sum of
-- its postings.
CREATE FUNCTION ledger_balances_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.balance = 0 THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1
       AND NEW.account_id = OLD.account_id AND NEW.shard = OLD.shard AND NEW.kind = OLD.kind THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% on ledger_balances is not allowed: balances change only by posting entries', TG_OP
        USING ERRCODE = 'restrict_violation', CONSTRAINT = 'ledger_balances_posted_only';
END $$;

CREATE TRIGGER ledger_balances_guard BEFORE INSERT OR UPDATE OR DELETE ON ledger_balances
    FOR EACH ROW EXECUTE FUNCTION ledger_balances_guard();
CREATE TRIGGER ledger_balances_no_truncate BEFORE TRUNCATE ON ledger_balances
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
