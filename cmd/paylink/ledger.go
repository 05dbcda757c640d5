package main

import (
	"context"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/ledger"
)

// ledgerCmd runs `paylink ledger verify`: it rebuilds every balance from
// the postings in one snapshot, prints what it found, and exits with
// status 1 when the ledger is inconsistent.
func ledgerCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) != 1 || args[0] != "verify" {
		fmt.Fprint(stderr, "usage: paylink ledger verify\n")
		return exitCode(2)
	}
	db, err := openDB(ctx, getenv, 1)
	if err != nil {
		return err
	}
	defer db.Close()
	var r ledger.Report
	err = pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		r, err = ledger.Verify(ctx, tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("verify ledger: %w", err)
	}
	fmt.Fprintf(stdout, "checked %d accounts, %d transactions, %d postings\n", r.Accounts, r.Transactions, r.Entries)
	problems := 0
	for _, m := range r.Mismatches {
		fmt.Fprintln(stdout, m)
		problems++
	}
	for _, u := range r.Unbalanced {
		fmt.Fprintln(stdout, u)
		problems++
	}
	for _, i := range r.Incomplete {
		fmt.Fprintln(stdout, i)
		problems++
	}
	for _, o := range r.Overdrawn {
		fmt.Fprintln(stdout, o)
		problems++
	}
	if problems > 0 {
		fmt.Fprintf(stdout, "ledger INCONSISTENT: %d problems\n", problems)
		return exitCode(1)
	}
	fmt.Fprintln(stdout, "ledger OK: every balance is the sum of its postings and every transaction balances")
	return nil
}
