package ledger_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/money"
)

// TestBank is Jepsen's bank workload: money moves at random between
// accounts while readers take snapshots. Every snapshot must sum to the
// starting total with no balance below zero, however the transfers
// interleave, and the ledger must verify at the end. Half the accounts are
// merchants (32 shards: debits lock them all, credits take a free one),
// half wallets (one shard). Transfers run without retries, so a deadlock
// or a lost update would show as an error or a wrong sum.
func TestBank(t *testing.T) {
	t.Parallel()
	db := bigPool(t, 24)
	ctx := context.Background()
	const (
		perAccount = 1000
		writers    = 12
		transfers  = 60 // per writer
		readers    = 4
	)
	var accounts []ledger.Account
	for range 4 {
		accounts = append(accounts, merchant(id.New("mer"), money.USD), wallet(id.New("usr"), money.USD))
	}
	for _, a := range accounts {
		mustPost(t, db, ledger.Transaction{Kind: "fund", Reference: id.New("fund"), Entries: []ledger.Entry{
			{Account: cardIn, Amount: -perAccount}, {Account: a, Amount: perAccount}}})
	}
	total := int64(perAccount * len(accounts))

	var (
		wg, readersWG  sync.WaitGroup
		done           = make(chan struct{})
		moved, refused atomic.Int64
		reads          atomic.Int64
		failures       = make(chan error, writers*transfers+readers)
	)
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range transfers {
				from := accounts[rng.IntN(len(accounts))]
				to := accounts[rng.IntN(len(accounts))]
				if from == to {
					continue
				}
				// Up to more than an account holds on average, so that many fail.
				_, err := post(ctx, db, transfer(from, to, 1+rng.Int64N(2*perAccount)))
				switch {
				case err == nil:
					moved.Add(1)
				case errors.Is(err, ledger.ErrInsufficientFunds):
					refused.Add(1)
				default:
					failures <- err
				}
			}
		})
	}
	for range readers {
		readersWG.Go(func() {
			for {
				err := pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
					var sum int64
					for _, a := range accounts {
						b, err := ledger.Balance(ctx, tx, a)
						if err != nil {
							return err
						}
						if b < 0 {
							t.Errorf("snapshot: %s has %d", a, b)
						}
						sum += b
					}
					if sum != total {
						t.Errorf("snapshot sums to %d, want %d", sum, total)
					}
					return nil
				})
				if err != nil {
					failures <- err
					return
				}
				reads.Add(1)
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readersWG.Wait()
	close(failures)
	for err := range failures {
		t.Errorf("unexpected error: %v", err)
	}
	t.Logf("%d transfers, %d refused for lack of funds, %d snapshots", moved.Load(), refused.Load(), reads.Load())
	if moved.Load() == 0 || refused.Load() == 0 {
		t.Errorf("%d transfers and %d refusals: the workload should have both", moved.Load(), refused.Load())
	}
	var sum int64
	for _, a := range accounts {
		sum += balance(t, db.Pool, a)
	}
	if sum != total {
		t.Errorf("final balances sum to %d, want %d", sum, total)
	}
	r := verifyClean(t, db.Pool)
	if want := int64(len(accounts)) + moved.Load(); r.Transactions != want {
		t.Errorf("%d ledger transactions, want %d (funding + successful transfers)", r.Transactions, want)
	}
}
