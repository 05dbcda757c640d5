package ledger_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
)

// corrupt runs sql with every trigger (the ledger's guards and the foreign
// keys) switched off, as only a superuser can, to damage the ledger on
// purpose.
func corrupt(t *testing.T, db *postgres.DB, sql ...string) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		for _, q := range sql {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("corrupt: %v", err)
	}
}

// TestVerifyFindsCorruption damages a healthy ledger in each way Verify
// looks for and checks the report names exactly that damage.
func TestVerifyFindsCorruption(t *testing.T) {
	t.Parallel()
	m, u := id.New("mer"), id.New("usr")
	topup := ledger.Transaction{Kind: "topup", Reference: "top_1", Entries: []ledger.Entry{
		{Account: cardIn, Amount: -500}, {Account: wallet(u, money.USD), Amount: 500}}}
	// facts are what the tests need to know of the healthy ledger: the
	// topup's id and the shards the postings landed on.
	type facts struct {
		topupID                          string
		paymentCardIn, topupCardIn, shop int
	}
	setup := func(t *testing.T) (*postgres.DB, facts) {
		db := pgtest.New(t)
		mustPost(t, db, ledger.Transaction{Kind: "payment", Reference: "pay_1", Entries: []ledger.Entry{
			{Account: cardIn, Amount: -1000}, {Account: merchant(m, money.USD), Amount: 1000}}})
		f := facts{topupID: mustPost(t, db, topup)}
		for _, q := range []struct {
			ref, kind string
			shard     *int
		}{{"pay_1", "card_in", &f.paymentCardIn}, {"top_1", "card_in", &f.topupCardIn}, {"pay_1", "merchant", &f.shop}} {
			if err := db.Pool.QueryRow(context.Background(), `SELECT e.shard FROM ledger_entries e
				JOIN ledger_transactions t ON t.id = e.transaction_id JOIN ledger_accounts a ON a.id = e.account_id
				WHERE t.reference = $1 AND a.kind = $2`, q.ref, q.kind).Scan(q.shard); err != nil {
				t.Fatal(err)
			}
		}
		verifyClean(t, db.Pool)
		return db, f
	}
	accountID := func(a ledger.Account) string {
		return `(SELECT id FROM ledger_accounts WHERE kind = '` + string(a.Kind) + `' AND owner = '` + a.Owner + `' AND currency = '` + string(a.Currency) + `')`
	}
	tests := []struct {
		name string
		sql  []string
		want func(facts) ledger.Report
	}{
		{
			name: "balance written without postings",
			sql:  []string{`UPDATE ledger_balances SET balance = balance + 50 WHERE account_id = ` + accountID(merchant(m, money.USD)) + ` AND balance > 0`},
			want: func(f facts) ledger.Report {
				return ledger.Report{Mismatches: []ledger.Mismatch{{Account: merchant(m, money.USD), Shard: f.shop, Stored: 1050, Posted: 1000}}}
			},
		},
		{
			name: "posting deleted",
			sql:  []string{`DELETE FROM ledger_entries WHERE account_id = ` + accountID(wallet(u, money.USD))},
			want: func(f facts) ledger.Report {
				return ledger.Report{
					Mismatches: []ledger.Mismatch{{Account: wallet(u, money.USD), Shard: 0, Stored: 500, Posted: 0}},
					Unbalanced: []ledger.Unbalanced{{ID: f.topupID, Kind: "topup", Reference: "top_1", Currency: money.USD, Sum: -500}},
					Incomplete: []ledger.Incomplete{{ID: f.topupID, Kind: "topup", Reference: "top_1", Entries: 1, Want: 2}},
				}
			},
		},
		{
			name: "posting amounts edited on both sides",
			sql:  []string{`UPDATE ledger_entries SET amount = amount * 2 WHERE transaction_id = (SELECT id FROM ledger_transactions WHERE reference = 'pay_1')`},
			want: func(f facts) ledger.Report {
				in := ledger.Mismatch{Account: cardIn, Shard: f.paymentCardIn, Stored: -1000, Posted: -2000}
				if f.topupCardIn == f.paymentCardIn {
					in.Stored, in.Posted = -1500, -2500
				}
				return ledger.Report{Mismatches: []ledger.Mismatch{in, {Account: merchant(m, money.USD), Shard: f.shop, Stored: 1000, Posted: 2000}}}
			},
		},
		{
			name: "transaction without postings",
			sql:  []string{`INSERT INTO ledger_transactions (id, kind, reference, entry_count) VALUES ('ltx_empty', 'payment', 'pay_2', 2)`},
			want: func(facts) ledger.Report {
				return ledger.Report{Incomplete: []ledger.Incomplete{{ID: "ltx_empty", Kind: "payment", Reference: "pay_2", Entries: 0, Want: 2}}}
			},
		},
		{
			name: "wallet overdrawn once the CHECK is dropped",
			sql: []string{
				`ALTER TABLE ledger_balances DROP CONSTRAINT ledger_balances_no_overdraft`,
				`UPDATE ledger_balances SET balance = -5 WHERE account_id = ` + accountID(wallet(u, money.USD)),
			},
			want: func(facts) ledger.Report {
				return ledger.Report{
					Mismatches: []ledger.Mismatch{{Account: wallet(u, money.USD), Shard: 0, Stored: -5, Posted: 500}},
					Overdrawn:  []ledger.Overdrawn{{Account: wallet(u, money.USD), Shard: 0, Balance: -5}},
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, f := setup(t)
			corrupt(t, db, tt.sql...)
			got, err := ledger.Verify(context.Background(), db.Pool)
			if err != nil {
				t.Fatal(err)
			}
			if got.OK() {
				t.Errorf("Verify says OK after %s", tt.name)
			}
			opts := cmp.Options{cmpopts.EquateEmpty(), cmpopts.IgnoreFields(ledger.Report{}, "Accounts", "Transactions", "Entries")}
			if diff := cmp.Diff(tt.want(f), got, opts); diff != "" {
				t.Errorf("Verify (-want +got):\n%s", diff)
			}
		})
	}
}
