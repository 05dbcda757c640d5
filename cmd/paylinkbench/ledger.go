package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
)

// fundEach is what every source account starts with: enough that the
// benchmark's transfers (1 to 100 minor units) never run out.
const fundEach = 100_000_000

// benchLedger posts ledger transfers from -c workers, each in its own
// database transaction as the API would (postgres.WithTx), and prints
// transfers per second and latency percentiles. Shapes:
//
//	spread  wallet-to-wallet transfers, each between the two accounts of a
//	        random one of -pairs pairs, in a random direction
//	hot     wallet payments from -pairs wallets into one merchant account
//	card    card payments into one merchant: card_in and the merchant
//	        account are both hot
func benchLedger(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ledger", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("db", getenv("DATABASE_URL"), "URL of a migrated PostgreSQL database (default $DATABASE_URL)")
	workers := fs.Int("c", 32, "concurrent transfers")
	measure := fs.Duration("d", 30*time.Second, "how long to measure")
	warmup := fs.Duration("warmup", 3*time.Second, "how long to run before measuring")
	shape := fs.String("shape", "spread", "spread, hot or card")
	pairs := fs.Int("pairs", 1000, "account pairs (spread) or paying wallets (hot)")
	if err := fs.Parse(args); err != nil {
		return exitCode(2)
	}
	if *dbURL == "" || *workers < 1 || *pairs < 1 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "paylinkbench ledger: need -db (or DATABASE_URL), -c >= 1, -pairs >= 1 and no arguments")
		return exitCode(2)
	}
	next, sources, err := transferShape(*shape, *pairs)
	if err != nil {
		fmt.Fprintln(stderr, "paylinkbench ledger:", err)
		return exitCode(2)
	}
	db, err := postgres.Open(ctx, *dbURL, int32(*workers+2))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := fund(ctx, db, sources); err != nil {
		return err
	}

	start := time.Now()
	from, until := start.Add(*warmup), start.Add(*warmup+*measure)
	type result struct {
		latencies       []time.Duration
		refused, failed int
		firstErr        error
	}
	results := make([]result, *workers)
	var wg sync.WaitGroup
	for w := range *workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			r := &results[w]
			for n := 0; ctx.Err() == nil && time.Now().Before(until); n++ {
				t := next(rng)
				t.Reference = fmt.Sprintf("bench_%d_%d_%d", start.UnixNano(), w, n)
				began := time.Now()
				err := db.WithTx(ctx, func(tx pgx.Tx) error {
					_, err := ledger.Post(ctx, tx, t)
					return err
				})
				ended := time.Now()
				if ended.Before(from) || ended.After(until) {
					continue
				}
				switch {
				case err == nil:
					r.latencies = append(r.latencies, ended.Sub(began))
				case errors.Is(err, ledger.ErrInsufficientFunds):
					r.refused++
				default:
					r.failed++
					if r.firstErr == nil {
						r.firstErr = err
					}
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	var (
		all             []time.Duration
		refused, failed int
		firstErr        error
	)
	for _, r := range results {
		all = append(all, r.latencies...)
		refused += r.refused
		failed += r.failed
		if firstErr == nil {
			firstErr = r.firstErr
		}
	}
	slices.Sort(all)
	report, err := ledger.Verify(ctx, db.Pool)
	if err != nil {
		return err
	}
	verdict := "ok"
	if !report.OK() {
		verdict = "FAILED"
	}
	fmt.Fprintf(stdout, "ledger shape=%s c=%d measured=%s transfers=%d tps=%.1f p50=%s p99=%s refused=%d errors=%d verify=%s\n",
		*shape, *workers, *measure, len(all), float64(len(all))/measure.Seconds(),
		percentile(all, 50), percentile(all, 99), refused, failed, verdict)
	if firstErr != nil {
		fmt.Fprintln(stderr, "paylinkbench ledger: first error:", firstErr)
	}
	if failed > 0 || !report.OK() {
		return exitCode(1)
	}
	return nil
}

// percentile returns the p-th percentile of sorted, rounded to 0.1 ms.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)].Round(100 * time.Microsecond)
}

// transferShape returns a generator of transfers of the given shape and
// the accounts that must be funded before they can run.
func transferShape(shape string, pairs int) (func(*rand.Rand) ledger.Transaction, []ledger.Account, error) {
	wallets := make([]ledger.Account, 0, 2*pairs)
	newWallet := func() ledger.Account {
		return ledger.Account{Kind: ledger.Wallet, Owner: id.New("usr"), Currency: money.USD}
	}
	shop := ledger.Account{Kind: ledger.Merchant, Owner: id.New("mer"), Currency: money.USD}
	cardIn := ledger.Account{Kind: ledger.CardIn, Currency: money.USD}
	move := func(kind string, from, to ledger.Account, amount int64) ledger.Transaction {
		return ledger.Transaction{Kind: kind, Entries: []ledger.Entry{{Account: from, Amount: -amount}, {Account: to, Amount: amount}}}
	}
	switch shape {
	case "spread":
		for range 2 * pairs {
			wallets = append(wallets, newWallet())
		}
		return func(rng *rand.Rand) ledger.Transaction {
			i := 2 * rng.IntN(pairs)
			a, b := wallets[i], wallets[i+1]
			if rng.IntN(2) == 0 {
				a, b = b, a
			}
			return move("transfer", a, b, 1+rng.Int64N(100))
		}, wallets, nil
	case "hot":
		for range pairs {
			wallets = append(wallets, newWallet())
		}
		return func(rng *rand.Rand) ledger.Transaction {
			return move("wallet_payment", wallets[rng.IntN(pairs)], shop, 1+rng.Int64N(100))
		}, wallets, nil
	case "card":
		return func(rng *rand.Rand) ledger.Transaction {
			return move("payment", cardIn, shop, 1+rng.Int64N(100))
		}, nil, nil
	default:
		return nil, nil, fmt.Errorf("unknown shape %q (want spread, hot or card)", shape)
	}
}

// fund tops every account up with fundEach from card_in, in one ledger
// transaction.
func fund(ctx context.Context, db *postgres.DB, accounts []ledger.Account) error {
	if len(accounts) == 0 {
		return nil
	}
	t := ledger.Transaction{Kind: "topup", Reference: id.New("bench"), Entries: []ledger.Entry{
		{Account: ledger.Account{Kind: ledger.CardIn, Currency: money.USD}, Amount: -fundEach * int64(len(accounts))}}}
	for _, a := range accounts {
		t.Entries = append(t.Entries, ledger.Entry{Account: a, Amount: fundEach})
	}
	return db.WithTx(ctx, func(tx pgx.Tx) error {
		_, err := ledger.Post(ctx, tx, t)
		if err != nil {
			return fmt.Errorf("fund %d accounts: %w", len(accounts), err)
		}
		return nil
	})
}
