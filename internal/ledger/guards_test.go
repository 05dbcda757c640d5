package ledger_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/pgtest"
)

// TestDatabaseGuards tries to break each rule the database enforces with
// raw SQL, as a buggy caller or a careless operator would, and checks that
// the database refuses with the named constraint and keeps every row.
func TestDatabaseGuards(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	m, u := id.New("mer"), id.New("usr")
	mustPost(t, db, payment(merchant(m, money.USD), 1000))
	mustPost(t, db, ledger.Transaction{Kind: "topup", Reference: "top_1", Entries: []ledger.Entry{
		{Account: cardIn, Amount: -500}, {Account: wallet(u, money.USD), Amount: 500}}})
	mustPost(t, db, payment(merchant(m, money.EUR), 300))
	var walletID, merchantID, merchantEUR, cardInID, cardOutID int64
	for _, q := range []struct {
		a  ledger.Account
		id *int64
	}{
		{wallet(u, money.USD), &walletID}, {merchant(m, money.USD), &merchantID},
		{merchant(m, money.EUR), &merchantEUR}, {cardIn, &cardInID},
	} {
		if err := db.Pool.QueryRow(ctx, `SELECT id FROM ledger_accounts WHERE kind = $1 AND owner = $2 AND currency = $3`,
			q.a.Kind, q.a.Owner, q.a.Currency).Scan(q.id); err != nil {
			t.Fatal(err)
		}
	}
	// card_out exists from here on, with its 64 zero shards.
	if err := db.Pool.QueryRow(ctx, `
		WITH a AS (INSERT INTO ledger_accounts (kind, owner, currency, shards) VALUES ('card_out', '', 'USD', 2) RETURNING id, kind)
		INSERT INTO ledger_balances (account_id, shard, kind, balance)
		SELECT id, s, kind, 0 FROM a, generate_series(0, 1) s RETURNING account_id`).Scan(&cardOutID); err != nil {
		t.Fatalf("create card_out by hand (allowed: zero balances): %v", err)
	}

	tests := []struct {
		name          string
		sql           []string // run in one transaction, then committed
		args          [][]any
		code, constr  string
		failsAtCommit bool
	}{
		{name: "update a posting", sql: []string{`UPDATE ledger_entries SET amount = amount * 2`},
			code: "23001", constr: "ledger_entries_append_only"},
		{name: "delete a posting", sql: []string{`DELETE FROM ledger_entries WHERE amount < 0`},
			code: "23001", constr: "ledger_entries_append_only"},
		{name: "truncate postings", sql: []string{`TRUNCATE ledger_entries`},
			code: "23001", constr: "ledger_entries_append_only"},
		{name: "update a transaction", sql: []string{`UPDATE ledger_transactions SET reference = 'other'`},
			code: "23001", constr: "ledger_transactions_append_only"},
		{name: "delete a transaction", sql: []string{`DELETE FROM ledger_transactions`},
			code: "23001", constr: "ledger_transactions_append_only"},
		{name: "re-own an account", sql: []string{`UPDATE ledger_accounts SET owner = $1 WHERE id = $2`},
			args: [][]any{{id.New("mer"), merchantID}}, code: "23001", constr: "ledger_accounts_append_only"},
		{name: "delete an account", sql: []string{`DELETE FROM ledger_accounts WHERE id = $1`},
			args: [][]any{{cardOutID}}, code: "23001", constr: "ledger_accounts_append_only"},
		{name: "write a balance", sql: []string{`UPDATE ledger_balances SET balance = balance + 100 WHERE account_id = $1`},
			args: [][]any{{walletID}}, code: "23001", constr: "ledger_balances_posted_only"},
		{name: "move a balance to another shard", sql: []string{`UPDATE ledger_balances SET shard = 1 WHERE account_id = $1 AND shard = 0`},
			args: [][]any{{cardOutID}}, code: "23001", constr: "ledger_balances_posted_only"},
		{name: "insert a non-zero balance row", sql: []string{`INSERT INTO ledger_balances (account_id, shard, kind, balance) VALUES ($1, 5, 'wallet', 100)`},
			args: [][]any{{walletID}}, code: "23001", constr: "ledger_balances_posted_only"},
		{name: "delete a balance row", sql: []string{`DELETE FROM ledger_balances WHERE account_id = $1`},
			args: [][]any{{cardOutID}}, code: "23001", constr: "ledger_balances_posted_only"},
		{name: "unbalanced postings",
			sql: []string{`INSERT INTO ledger_transactions (id, kind, reference, entry_count) VALUES ('ltx_x', 'payment', 'p1', 2)`,
				`INSERT INTO ledger_entries VALUES ('ltx_x', $1, 0, -50), ('ltx_x', $2, 0, 40)`},
			args: [][]any{nil, {cardInID, merchantID}}, code: "23514", constr: "ledger_transactions_balanced"},
		{name: "balanced only across currencies",
			sql: []string{`INSERT INTO ledger_transactions (id, kind, reference, entry_count) VALUES ('ltx_x', 'payment', 'p1', 2)`,
				`INSERT INTO ledger_entries VALUES ('ltx_x', $1, 0, -50), ('ltx_x', $2, 0, 50)`},
			args: [][]any{nil, {cardInID, merchantEUR}}, code: "23514", constr: "ledger_transactions_balanced"},
		{name: "postings split over two statements",
			sql: []string{`INSERT INTO ledger_transactions (id, kind, reference, entry_count) VALUES ('ltx_x', 'payment', 'p1', 2)`,
				`INSERT INTO ledger_entries VALUES ('ltx_x', $1, 0, -50)`,
				`INSERT INTO ledger_entries VALUES ('ltx_x', $1, 0, 50)`},
			args: [][]any{nil, {cardInID}, {merchantID}}, code: "23514", constr: "ledger_transactions_balanced"},
		{name: "a transaction without postings",
			sql:  []string{`INSERT INTO ledger_transactions (id, kind, reference, entry_count) VALUES ('ltx_x', 'payment', 'p1', 2)`},
			code: "23514", constr: "ledger_transactions_balanced", failsAtCommit: true},
		{name: "postings added to a posted transaction",
			sql: []string{`INSERT INTO ledger_entries
				SELECT t.id, $1::bigint, v.shard, v.amount
				FROM (SELECT id FROM ledger_transactions LIMIT 1) t, (VALUES (0, -1), (1, 1)) AS v(shard, amount)`},
			args: [][]any{{cardOutID}}, code: "23514", constr: "ledger_transactions_balanced"},
		{name: "overdraw a wallet with balanced postings",
			sql: []string{`INSERT INTO ledger_transactions (id, kind, reference, entry_count) VALUES ('ltx_x', 'payout', 'p1', 2)`,
				`INSERT INTO ledger_entries VALUES ('ltx_x', $1, 0, -501), ('ltx_x', $2, 0, 501)`},
			args: [][]any{nil, {walletID, cardOutID}}, code: "23514", constr: "ledger_balances_no_overdraft"},
		{name: "zero posting",
			sql: []string{`INSERT INTO ledger_transactions (id, kind, reference, entry_count) VALUES ('ltx_x', 'payment', 'p1', 3)`,
				`INSERT INTO ledger_entries VALUES ('ltx_x', $1, 0, -5), ('ltx_x', $2, 0, 5), ('ltx_x', $3, 0, 0)`},
			args: [][]any{nil, {cardInID, merchantID, cardOutID}}, code: "23514", constr: "ledger_entries_amount_check"},
		{name: "merchant account owned by a user",
			sql:  []string{`INSERT INTO ledger_accounts (kind, owner, currency, shards) VALUES ('merchant', $1, 'USD', 1)`},
			args: [][]any{{u}}, code: "23514", constr: "ledger_accounts_owner_check"},
		{name: "wallet balance row of a card kind",
			sql:  []string{`INSERT INTO ledger_balances (account_id, shard, kind, balance) VALUES ($1, 7, 'card_in', 0)`},
			args: [][]any{{walletID}}, code: "23503", constr: "ledger_balances_account_id_kind_fkey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := dump(t, db.Pool)
			var commitErr bool
			err := pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
				for i, q := range tt.sql {
					var args []any
					if i < len(tt.args) {
						args = tt.args[i]
					}
					if _, err := tx.Exec(ctx, q, args...); err != nil {
						return err
					}
				}
				commitErr = true
				return nil
			})
			var pg *pgconn.PgError
			if !errors.As(err, &pg) || pg.Code != tt.code || pg.ConstraintName != tt.constr {
				t.Fatalf("got %v; want SQLSTATE %s on %s", err, tt.code, tt.constr)
			}
			if commitErr != tt.failsAtCommit {
				t.Errorf("failed at commit: %v, want %v", commitErr, tt.failsAtCommit)
			}
			if diff := cmp.Diff(before, dump(t, db.Pool)); diff != "" {
				t.Errorf("the refused SQL changed the ledger (-before +after):\n%s", diff)
			}
		})
	}
	verifyClean(t, db.Pool)
}
