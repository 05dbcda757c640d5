package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/pgtest"
)

// TestLedgerVerify runs `paylink ledger verify` on a healthy ledger, then
// on the same ledger after a balance and a posting were tampered with
// behind the guards' backs (as a superuser can): it must name both and
// exit with status 1.
func TestLedgerVerify(t *testing.T) {
	t.Parallel()
	db, dbURL := pgtest.NewWithURL(t)
	ctx := context.Background()
	m, u := id.New("mer"), id.New("usr")
	for _, tr := range []ledger.Transaction{
		{Kind: "payment", Reference: "pay_1", Entries: []ledger.Entry{
			{Account: ledger.Account{Kind: ledger.CardIn, Currency: money.USD}, Amount: -1000},
			{Account: ledger.Account{Kind: ledger.Merchant, Owner: m, Currency: money.USD}, Amount: 1000}}},
		{Kind: "topup", Reference: "top_1", Entries: []ledger.Entry{
			{Account: ledger.Account{Kind: ledger.CardIn, Currency: money.USD}, Amount: -300},
			{Account: ledger.Account{Kind: ledger.Wallet, Owner: u, Currency: money.USD}, Amount: 300}}},
	} {
		if err := db.WithTx(ctx, func(tx pgx.Tx) error { _, err := ledger.Post(ctx, tx, tr); return err }); err != nil {
			t.Fatal(err)
		}
	}
	env := getenvFrom(map[string]string{"DATABASE_URL": dbURL})

	var out bytes.Buffer
	if err := run(ctx, []string{"ledger", "verify"}, env, &out, io.Discard); err != nil {
		t.Fatalf("verify of a healthy ledger: %v\n%s", err, out.String())
	}
	if want := "checked 3 accounts, 2 transactions, 4 postings\nledger OK"; !bytes.HasPrefix(out.Bytes(), []byte(want)) {
		t.Errorf("verify printed %q, want it to start with %q", out.String(), want)
	}

	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		for _, q := range []string{
			`SET LOCAL session_replication_role = replica`, // triggers (and so the guards) off
			`UPDATE ledger_balances SET balance = balance + 50
			 WHERE account_id = (SELECT id FROM ledger_accounts WHERE kind = 'merchant') AND balance > 0`,
			`DELETE FROM ledger_entries WHERE account_id = (SELECT id FROM ledger_accounts WHERE kind = 'wallet')`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"ledger", "verify"}, env, &out, io.Discard); err != exitCode(1) {
		t.Fatalf("verify of a corrupt ledger returned %v, want exit status 1\n%s", err, out.String())
	}
	for _, want := range []string{
		`balance mismatch: merchant ` + m + ` USD shard \d+: stored 1050, postings sum to 1000`,
		`balance mismatch: wallet ` + u + ` USD shard 0: stored 300, postings sum to 0`,
		`unbalanced: ltx_\w+ \(topup top_1\): USD postings sum to -300`,
		`incomplete: ltx_\w+ \(topup top_1\): 1 postings, written with 2`,
		`ledger INCONSISTENT: 4 problems`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("verify output lacks %q:\n%s", want, out.String())
		}
	}

	if err := run(ctx, []string{"ledger"}, env, io.Discard, io.Discard); err != exitCode(2) {
		t.Errorf("`paylink ledger` = %v, want exit status 2", err)
	}
	if err := run(ctx, []string{"ledger", "verify"}, getenvFrom(nil), io.Discard, io.Discard); err == nil {
		t.Error("verify without DATABASE_URL succeeded")
	}
}
