package ledger

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
)

// Report is what Verify found. A healthy ledger has no Mismatches,
// Unbalanced, Incomplete or Overdrawn.
type Report struct {
	Accounts, Transactions, Entries int64 // rows checked

	Mismatches []Mismatch   // balance rows that differ from the sum of their postings
	Unbalanced []Unbalanced // transactions whose postings don't sum to zero in a currency
	Incomplete []Incomplete // transactions with postings missing or added, or postings of no transaction
	Overdrawn  []Overdrawn  // negative balance rows of accounts that may not go negative
}

// OK reports whether the ledger is consistent.
func (r *Report) OK() bool {
	return len(r.Mismatches) == 0 && len(r.Unbalanced) == 0 && len(r.Incomplete) == 0 && len(r.Overdrawn) == 0
}

// Mismatch is a balance row (one shard of an account) whose stored balance
// is not the sum of its postings.
type Mismatch struct {
	Account Account
	Shard   int
	Stored  int64 // ledger_balances.balance (0 when the row is missing)
	Posted  int64 // sum of the postings
}

func (m Mismatch) String() string {
	return fmt.Sprintf("balance mismatch: %s shard %d: stored %d, postings sum to %d", m.Account, m.Shard, m.Stored, m.Posted)
}

// Unbalanced is a transaction whose postings in Currency sum to Sum, not 0.
type Unbalanced struct {
	ID, Kind, Reference string
	Currency            money.Currency
	Sum                 int64
}

func (u Unbalanced) String() string {
	return fmt.Sprintf("unbalanced: %s (%s %s): %s postings sum to %d", u.ID, u.Kind, u.Reference, u.Currency, u.Sum)
}

// Incomplete is a transaction with Entries postings where it was written
// with Want (0 when the transaction row itself is missing).
type Incomplete struct {
	ID, Kind, Reference string
	Entries, Want       int64
}

func (i Incomplete) String() string {
	return fmt.Sprintf("incomplete: %s (%s %s): %d postings, written with %d", i.ID, i.Kind, i.Reference, i.Entries, i.Want)
}

// Overdrawn is a negative balance row of an account that may not go
// negative.
type Overdrawn struct {
	Account Account
	Shard   int
	Balance int64
}

func (o Overdrawn) String() string {
	return fmt.Sprintf("overdrawn: %s shard %d: balance %d", o.Account, o.Shard, o.Balance)
}

// Verify rebuilds every balance from the postings; Report lists
// mismatches and unbalanced transactions. Each check reads one snapshot;
// run it in a REPEATABLE READ transaction for one snapshot across all of
// them. It reads every row of the ledger and locks nothing.
func Verify(ctx context.Context, db postgres.DBTX) (Report, error) {
	var r Report
	if err := db.QueryRow(ctx, countLedger).Scan(&r.Accounts, &r.Transactions, &r.Entries); err != nil {
		return Report{}, fmt.Errorf("count ledger rows: %w", err)
	}
	var err error
	if r.Mismatches, err = collect(ctx, db, selectMismatches, func(row pgx.CollectableRow) (m Mismatch, err error) {
		err = row.Scan(&m.Account.Kind, &m.Account.Owner, &m.Account.Currency, &m.Shard, &m.Stored, &m.Posted)
		return m, err
	}); err != nil {
		return Report{}, fmt.Errorf("rebuild balances: %w", err)
	}
	if r.Unbalanced, err = collect(ctx, db, selectUnbalanced, func(row pgx.CollectableRow) (u Unbalanced, err error) {
		err = row.Scan(&u.ID, &u.Kind, &u.Reference, &u.Currency, &u.Sum)
		return u, err
	}); err != nil {
		return Report{}, fmt.Errorf("check balanced transactions: %w", err)
	}
	if r.Incomplete, err = collect(ctx, db, selectIncomplete, func(row pgx.CollectableRow) (i Incomplete, err error) {
		err = row.Scan(&i.ID, &i.Kind, &i.Reference, &i.Entries, &i.Want)
		return i, err
	}); err != nil {
		return Report{}, fmt.Errorf("count postings: %w", err)
	}
	if r.Overdrawn, err = collect(ctx, db, selectOverdrawn, func(row pgx.CollectableRow) (o Overdrawn, err error) {
		err = row.Scan(&o.Account.Kind, &o.Account.Owner, &o.Account.Currency, &o.Shard, &o.Balance)
		return o, err
	}); err != nil {
		return Report{}, fmt.Errorf("check overdrafts: %w", err)
	}
	return r, nil
}

// collect runs query and scans every row with scan.
func collect[T any](ctx context.Context, db postgres.DBTX, query string, scan pgx.RowToFunc[T]) ([]T, error) {
	rows, err := db.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scan)
}
