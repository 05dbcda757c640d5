package ledger

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/jackc/pgx/v5"
)

// shard is one locked balance row.
type shard struct {
	accountID int64
	shard     int16
	balance   int64
}

// posting is one row of ledger_entries.
type posting struct {
	accountID int64
	shard     int16
	amount    int64
}

// errNoAccount means lock found an account missing.
var errNoAccount = errors.New("ledger account does not exist yet")

// lock locks the shards each entry needs, all in one round trip; with
// create set it first opens the savepoint and creates missing accounts.
// It returns the locked shards per entry, or errNoAccount. Duplicates are
// left to the insert (ON CONFLICT), which sees them after the locks.
func lock(ctx context.Context, tx pgx.Tx, entries []Entry, create bool) ([][]shard, error) {
	b := &pgx.Batch{}
	queueLocks(b, entries, create)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	locked, err := readLocks(br, entries, create)
	if err != nil {
		return nil, err
	}
	return locked, br.Close()
}

// queueLocks queues in b what lock sends.
func queueLocks(b *pgx.Batch, entries []Entry, create bool) {
	if create {
		b.Queue(savepoint)
		n := len(entries)
		kinds, owners, currencies, counts := make([]string, n), make([]string, n), make([]string, n), make([]int16, n)
		for i, e := range entries {
			kinds[i], owners[i], currencies[i], counts[i] = string(e.Account.Kind), e.Account.Owner, string(e.Account.Currency), e.Account.Kind.shards()
		}
		b.Queue(ensureAccounts, kinds, owners, currencies, counts)
	}
	for _, e := range entries {
		a := e.Account
		// One shard needs no search for a free one: lock it plainly.
		if a.Kind.shards() == 1 || (e.Amount < 0 && !a.Kind.mayGoNegative()) {
			b.Queue(lockAllShards, a.Kind, a.Owner, a.Currency)
		} else {
			b.Queue(lockOneShard, a.Kind, a.Owner, a.Currency, rand.IntN(math.MaxInt16))
		}
	}
}

// readLocks reads from br the answers to what queueLocks queued.
func readLocks(br pgx.BatchResults, entries []Entry, create bool) ([][]shard, error) {
	if create {
		if _, err := br.Exec(); err != nil {
			return nil, fmt.Errorf("open savepoint: %w", err)
		}
		if _, err := br.Exec(); err != nil {
			return nil, fmt.Errorf("create accounts: %w", translate(err))
		}
	}
	locked := make([][]shard, len(entries))
	for i, e := range entries {
		rows, err := br.Query()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", e.Account, err)
		}
		for rows.Next() {
			var s shard
			if err := rows.Scan(&s.accountID, &s.shard, &s.balance); err != nil {
				rows.Close()
				return nil, fmt.Errorf("lock %s: %w", e.Account, err)
			}
			locked[i] = append(locked[i], s)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("lock %s: %w", e.Account, err)
		}
		if len(locked[i]) == 0 {
			if create {
				return nil, fmt.Errorf("lock %s: no balance row", e.Account)
			}
			return nil, errNoAccount
		}
	}
	return locked, nil
}

// allocate turns entries into postings on the shards lock returned. A
// debit of an account that may not go negative is taken from its fullest
// shards first; if they hold too little in all, it is ErrInsufficientFunds.
func allocate(entries []Entry, locked [][]shard) ([]posting, error) {
	var out []posting
	for i, e := range entries {
		shards := locked[i]
		if e.Amount > 0 || e.Account.Kind.mayGoNegative() {
			out = append(out, posting{shards[0].accountID, shards[0].shard, e.Amount})
			continue
		}
		need := -e.Amount
		var have int64
		for _, s := range shards {
			have = min(have, math.MaxInt64-s.balance) + s.balance // saturates; shards are never negative
		}
		if have < need {
			return nil, ErrInsufficientFunds.Wrap(fmt.Errorf("%s holds %d, needs %d", e.Account, have, need))
		}
		sort.SliceStable(shards, func(a, b int) bool { return shards[a].balance > shards[b].balance })
		for _, s := range shards {
			if need == 0 {
				break
			}
			take := min(s.balance, need)
			out = append(out, posting{s.accountID, s.shard, -take})
			need -= take
		}
	}
	return out, nil
}
