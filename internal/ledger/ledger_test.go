package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
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

var (
	cardIn  = ledger.Account{Kind: ledger.CardIn, Currency: money.USD}
	cardOut = ledger.Account{Kind: ledger.CardOut, Currency: money.USD}
)

func merchant(owner string, c money.Currency) ledger.Account {
	return ledger.Account{Kind: ledger.Merchant, Owner: owner, Currency: c}
}

func wallet(owner string, c money.Currency) ledger.Account {
	return ledger.Account{Kind: ledger.Wallet, Owner: owner, Currency: c}
}

func payment(m ledger.Account, amount int64) ledger.Transaction {
	in := ledger.Account{Kind: ledger.CardIn, Currency: m.Currency}
	return ledger.Transaction{Kind: "payment", Reference: id.New("pay"), Entries: []ledger.Entry{
		{Account: in, Amount: -amount}, {Account: m, Amount: amount}}}
}

func transfer(from, to ledger.Account, amount int64) ledger.Transaction {
	return ledger.Transaction{Kind: "transfer", Reference: id.New("txn"), Entries: []ledger.Entry{
		{Account: from, Amount: -amount}, {Account: to, Amount: amount}}}
}

// post posts t in a transaction of its own, with no retries, so that a
// deadlock or serialization failure shows as an error.
func post(ctx context.Context, db *postgres.DB, t ledger.Transaction) (string, error) {
	var ltx string
	err := pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var err error
		ltx, err = ledger.Post(ctx, tx, t)
		return err
	})
	return ltx, err
}

func mustPost(t *testing.T, db *postgres.DB, tr ledger.Transaction) string {
	t.Helper()
	ltx, err := post(context.Background(), db, tr)
	if err != nil {
		t.Fatalf("Post(%s %s): %v", tr.Kind, tr.Reference, err)
	}
	return ltx
}

func balance(t *testing.T, db postgres.DBTX, a ledger.Account) int64 {
	t.Helper()
	b, err := ledger.Balance(context.Background(), db, a)
	if err != nil {
		t.Fatalf("Balance(%s): %v", a, err)
	}
	return b
}

// dump returns every row of the ledger's tables, to show that a rejected
// operation changed nothing.
func dump(t *testing.T, db postgres.DBTX) string {
	t.Helper()
	var sb strings.Builder
	for _, q := range []string{
		`SELECT id, kind, owner, currency, shards FROM ledger_accounts ORDER BY id`,
		`SELECT account_id, shard, kind, balance FROM ledger_balances ORDER BY account_id, shard`,
		`SELECT id, kind, reference, entry_count FROM ledger_transactions ORDER BY id`,
		`SELECT transaction_id, account_id, shard, amount FROM ledger_entries ORDER BY 1, 2, 3`,
	} {
		rows, err := db.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("dump: %v", err)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatalf("dump: %v", err)
			}
			fmt.Fprintln(&sb, vals...)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("dump: %v", err)
		}
	}
	return sb.String()
}

// bigPool returns a fresh database with a pool of conns connections, for
// tests holding many transactions open at once.
func bigPool(t *testing.T, conns int32) *postgres.DB {
	t.Helper()
	_, url := pgtest.NewWithURL(t)
	db, err := postgres.Open(context.Background(), url, conns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func verifyClean(t *testing.T, db postgres.DBTX) ledger.Report {
	t.Helper()
	r, err := ledger.Verify(context.Background(), db)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !r.OK() {
		t.Fatalf("Verify found problems: %+v", r)
	}
	return r
}

func TestPostMovesMoney(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	m, u1, u2 := id.New("mer"), id.New("usr"), id.New("usr")
	tests := []struct {
		name string
		tx   ledger.Transaction
		want map[ledger.Account]int64 // balances after the step
	}{
		{"card payment", payment(merchant(m, money.USD), 2500),
			map[ledger.Account]int64{cardIn: -2500, merchant(m, money.USD): 2500}},
		{"refund", ledger.Transaction{Kind: "refund", Reference: id.New("re"), Entries: []ledger.Entry{
			{Account: merchant(m, money.USD), Amount: -500}, {Account: cardOut, Amount: 500}}},
			map[ledger.Account]int64{merchant(m, money.USD): 2000, cardOut: 500}},
		{"wallet top-up", ledger.Transaction{Kind: "topup", Reference: id.New("txn"), Entries: []ledger.Entry{
			{Account: cardIn, Amount: -10000}, {Account: wallet(u1, money.USD), Amount: 10000}}},
			map[ledger.Account]int64{cardIn: -12500, wallet(u1, money.USD): 10000}},
		{"transfer", transfer(wallet(u1, money.USD), wallet(u2, money.USD), 3000),
			map[ledger.Account]int64{wallet(u1, money.USD): 7000, wallet(u2, money.USD): 3000}},
		{"wallet payment", ledger.Transaction{Kind: "wallet_payment", Reference: id.New("pay"), Entries: []ledger.Entry{
			{Account: wallet(u2, money.USD), Amount: -3000}, {Account: merchant(m, money.USD), Amount: 3000}}},
			map[ledger.Account]int64{wallet(u2, money.USD): 0, merchant(m, money.USD): 5000}},
		{"yen payment, zero decimals", payment(merchant(m, money.JPY), 2500),
			map[ledger.Account]int64{merchant(m, money.JPY): 2500, merchant(m, money.USD): 5000}},
		{"dinar payment, three decimals", payment(merchant(m, money.BHD), 1234),
			map[ledger.Account]int64{merchant(m, money.BHD): 1234, {Kind: ledger.CardIn, Currency: money.BHD}: -1234}},
		{"two currencies in one transaction", ledger.Transaction{Kind: "fx", Reference: "fx_1", Entries: []ledger.Entry{
			{Account: wallet(u1, money.USD), Amount: -1000}, {Account: cardOut, Amount: 1000},
			{Account: ledger.Account{Kind: ledger.CardIn, Currency: money.EUR}, Amount: -900}, {Account: wallet(u1, money.EUR), Amount: 900}}},
			map[ledger.Account]int64{wallet(u1, money.USD): 6000, wallet(u1, money.EUR): 900, cardOut: 1500}},
	}
	for _, tt := range tests {
		ltx := mustPost(t, db, tt.tx)
		if !id.Valid("ltx", ltx) {
			t.Errorf("%s: Post returned id %q, want ltx_…", tt.name, ltx)
		}
		got := map[ledger.Account]int64{}
		for a := range tt.want {
			got[a] = balance(t, db.Pool, a)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: balances after Post (-want +got):\n%s", tt.name, diff)
		}
	}
	bals, err := ledger.Balances(ctx, db.Pool, ledger.Merchant, m)
	if err != nil {
		t.Fatal(err)
	}
	want := []money.Amount{{Minor: 1234, Currency: money.BHD}, {Minor: 2500, Currency: money.JPY}, {Minor: 5000, Currency: money.USD}}
	if diff := cmp.Diff(want, bals); diff != "" {
		t.Errorf("Balances(merchant) (-want +got):\n%s", diff)
	}
	bals, err = ledger.Balances(ctx, db.Pool, ledger.Wallet, u2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]money.Amount{{Minor: 0, Currency: money.USD}}, bals); diff != "" {
		t.Errorf("Balances(emptied wallet) lists the used currency at zero (-want +got):\n%s", diff)
	}
	bals, err = ledger.Balances(ctx, db.Pool, ledger.Wallet, id.New("usr"))
	if err != nil || len(bals) != 0 {
		t.Errorf("Balances(unknown wallet) = %v, %v; want none", bals, err)
	}
	if got := balance(t, db.Pool, wallet(id.New("usr"), money.USD)); got != 0 {
		t.Errorf("Balance(never used) = %d, want 0", got)
	}
	r := verifyClean(t, db.Pool)
	if r.Transactions != int64(len(tests)) {
		t.Errorf("Verify counted %d transactions, want %d", r.Transactions, len(tests))
	}
}

func TestPostRejects(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	m, u := id.New("mer"), id.New("usr")
	mustPost(t, db, payment(merchant(m, money.USD), 1000))
	posted := payment(merchant(m, money.USD), 10)
	mustPost(t, db, posted)
	mustPost(t, db, ledger.Transaction{Kind: "topup", Reference: "top_1", Entries: []ledger.Entry{
		{Account: cardIn, Amount: -500}, {Account: wallet(u, money.USD), Amount: 500}}})
	entries := func(es ...ledger.Entry) []ledger.Entry { return es }
	e := func(a ledger.Account, amount int64) ledger.Entry { return ledger.Entry{Account: a, Amount: amount} }
	newWallet := wallet(id.New("usr"), money.USD)
	tests := []struct {
		name    string
		tx      ledger.Transaction
		wantErr error
	}{
		{"no entries", ledger.Transaction{Kind: "payment", Reference: "r1"}, ledger.ErrUnbalanced},
		{"one entry", ledger.Transaction{Kind: "payment", Reference: "r1", Entries: entries(e(cardIn, 5))}, ledger.ErrUnbalanced},
		{"not summing to zero", ledger.Transaction{Kind: "payment", Reference: "r1",
			Entries: entries(e(cardIn, -5), e(merchant(m, money.USD), 4))}, ledger.ErrUnbalanced},
		{"balanced across currencies only", ledger.Transaction{Kind: "payment", Reference: "r1",
			Entries: entries(e(cardIn, -5), e(merchant(m, money.EUR), 5))}, ledger.ErrUnbalanced},
		{"zero amount", ledger.Transaction{Kind: "payment", Reference: "r1",
			Entries: entries(e(cardIn, 0), e(merchant(m, money.USD), 0))}, ledger.ErrUnbalanced},
		{"overflow", ledger.Transaction{Kind: "payment", Reference: "r1",
			Entries: entries(e(cardIn, math.MaxInt64), e(cardOut, math.MaxInt64), e(merchant(m, money.USD), 2))}, ledger.ErrUnbalanced},
		{"most negative amount", ledger.Transaction{Kind: "payment", Reference: "r1",
			Entries: entries(e(cardIn, math.MinInt64), e(cardOut, math.MaxInt64), e(merchant(m, money.USD), 1))}, ledger.ErrUnbalanced},
		{"insufficient funds", transfer(wallet(u, money.USD), newWallet, 501), ledger.ErrInsufficientFunds},
		{"insufficient funds in a currency never used", transfer(wallet(u, money.EUR), wallet(id.New("usr"), money.EUR), 1), ledger.ErrInsufficientFunds},
		{"merchant overdraft", ledger.Transaction{Kind: "refund", Reference: "re_1",
			Entries: entries(e(merchant(m, money.USD), -1011), e(cardOut, 1011))}, ledger.ErrInsufficientFunds},
		{"duplicate", ledger.Transaction{Kind: posted.Kind, Reference: posted.Reference,
			Entries: entries(e(cardIn, -7), e(merchant(m, money.USD), 7))}, ledger.ErrDuplicate},
		{"empty kind", ledger.Transaction{Reference: "r1", Entries: entries(e(cardIn, -5), e(merchant(m, money.USD), 5))}, ledger.ErrInvalid},
		{"bad kind", ledger.Transaction{Kind: "Pay ment", Reference: "r1", Entries: entries(e(cardIn, -5), e(merchant(m, money.USD), 5))}, ledger.ErrInvalid},
		{"empty reference", ledger.Transaction{Kind: "payment", Entries: entries(e(cardIn, -5), e(merchant(m, money.USD), 5))}, ledger.ErrInvalid},
		{"same account twice", ledger.Transaction{Kind: "payment", Reference: "r1",
			Entries: entries(e(cardIn, -5), e(merchant(m, money.USD), 2), e(merchant(m, money.USD), 3))}, ledger.ErrInvalid},
		{"unknown account kind", ledger.Transaction{Kind: "payment", Reference: "r1",
			Entries: entries(e(cardIn, -5), e(ledger.Account{Kind: "fees", Currency: money.USD}, 5))}, ledger.ErrInvalid},
		{"system account with owner", ledger.Transaction{Kind: "payment", Reference: "r1",
			Entries: entries(e(ledger.Account{Kind: ledger.CardIn, Owner: m, Currency: money.USD}, -5), e(merchant(m, money.USD), 5))}, ledger.ErrInvalid},
		{"merchant account of a user", ledger.Transaction{Kind: "payment", Reference: "r1",
			Entries: entries(e(cardIn, -5), e(merchant(u, money.USD), 5))}, ledger.ErrInvalid},
		{"wallet without owner", ledger.Transaction{Kind: "payment", Reference: "r1",
			Entries: entries(e(cardIn, -5), e(wallet("", money.USD), 5))}, ledger.ErrInvalid},
		{"unknown currency", ledger.Transaction{Kind: "payment", Reference: "r1",
			Entries: entries(e(ledger.Account{Kind: ledger.CardIn, Currency: "XYZ"}, -5), e(merchant(m, "XYZ"), 5))}, ledger.ErrInvalid},
		{"lower-case currency", ledger.Transaction{Kind: "payment", Reference: "r1",
			Entries: entries(e(ledger.Account{Kind: ledger.CardIn, Currency: "usd"}, -5), e(merchant(m, "usd"), 5))}, ledger.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := dump(t, db.Pool)
			ltx, err := post(context.Background(), db, tt.tx)
			if !errors.Is(err, tt.wantErr) || ltx != "" {
				t.Fatalf("Post = %q, %v; want %v", ltx, err, tt.wantErr)
			}
			if diff := cmp.Diff(before, dump(t, db.Pool)); diff != "" {
				t.Errorf("a rejected Post changed the ledger (-before +after):\n%s", diff)
			}
		})
	}
	verifyClean(t, db.Pool)
}

// TestRejectedPostLeavesTransactionUsable: a Post that fails leaves the
// caller's transaction as it was, so the caller can record the failure
// (or try something else) and commit.
func TestRejectedPostLeavesTransactionUsable(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	u, m := id.New("usr"), id.New("mer")
	mustPost(t, db, ledger.Transaction{Kind: "topup", Reference: "top_1", Entries: []ledger.Entry{
		{Account: cardIn, Amount: -100}, {Account: wallet(u, money.USD), Amount: 100}}})
	before := dump(t, db.Pool)
	var ltx string
	err := db.WithTx(ctx, func(tx pgx.Tx) error {
		// The merchant account is new: a rejected Post must not leave it behind.
		_, err := ledger.Post(ctx, tx, transfer(wallet(u, money.USD), merchant(m, money.USD), 101))
		if !errors.Is(err, ledger.ErrInsufficientFunds) {
			t.Errorf("Post(101 of 100) = %v, want ErrInsufficientFunds", err)
		}
		if got := dump(t, tx); got != before {
			t.Errorf("rejected Post changed the ledger inside the transaction:\n%s", cmp.Diff(before, got))
		}
		ltx, err = ledger.Post(ctx, tx, transfer(wallet(u, money.USD), merchant(m, money.USD), 100))
		return err
	})
	if err != nil {
		t.Fatalf("transaction after a rejected Post: %v", err)
	}
	if ltx == "" || balance(t, db.Pool, merchant(m, money.USD)) != 100 || balance(t, db.Pool, wallet(u, money.USD)) != 0 {
		t.Errorf("after the retry in the same transaction: merchant %d, wallet %d; want 100, 0",
			balance(t, db.Pool, merchant(m, money.USD)), balance(t, db.Pool, wallet(u, money.USD)))
	}
	verifyClean(t, db.Pool)
}

// TestConcurrentDuplicates: many transactions posting the same (kind,
// reference) at once: exactly one posts, the others get ErrDuplicate.
func TestConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	m := merchant(id.New("mer"), money.USD)
	tr := payment(m, 700)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = post(context.Background(), db, tr) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ledger.ErrDuplicate):
			t.Errorf("Post of a duplicate: %v, want ErrDuplicate", err)
		}
	}
	if ok != 1 || balance(t, db.Pool, m) != 700 {
		t.Errorf("%d of %d duplicates posted, balance %d; want 1 and 700", ok, n, balance(t, db.Pool, m))
	}
	verifyClean(t, db.Pool)
}

// TestHotMerchantPaymentsInFlightTogether holds many payments to one
// merchant open at once: each has locked its shard and none waits for
// another, so all reach the barrier (a single balance row would make the
// second one wait for the first to commit, and the test would hang).
func TestHotMerchantPaymentsInFlightTogether(t *testing.T) {
	t.Parallel()
	db := bigPool(t, 40)
	ctx := context.Background()
	m := merchant(id.New("mer"), money.USD)
	mustPost(t, db, payment(m, 1)) // the accounts exist before the rush
	const n = 32
	errs := allInFlight(n, func(_ int, hold func()) error {
		return pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			_, err := ledger.Post(ctx, tx, payment(m, 100))
			hold()
			return err
		})
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("payment %d: %v", i, err)
		}
	}
	if got := balance(t, db.Pool, m); got != 1+n*100 {
		t.Errorf("merchant balance %d, want %d", got, 1+n*100)
	}
	var shards int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id
		WHERE a.kind = 'merchant' AND b.balance > 0`).Scan(&shards); err != nil {
		t.Fatal(err)
	}
	if shards < n {
		t.Errorf("%d payments in flight together used %d merchant shards, want at least %d", n, shards, n)
	}
	verifyClean(t, db.Pool)
}

// allInFlight runs post(i, hold) for i in [0, n) at once and returns their
// errors. Each calls hold once it holds what it locked; hold returns only
// when all n do, so the n transactions are in flight together.
func allInFlight(n int, post func(i int, hold func()) error) []error {
	var held, wg sync.WaitGroup
	held.Add(n)
	release := make(chan struct{})
	hold := func() {
		held.Done()
		<-release
	}
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = post(i, hold) })
	}
	held.Wait()
	close(release)
	wg.Wait()
	return errs
}

// spread credits m with amounts: the first alone (creating the accounts),
// the others in as many concurrent transactions, all in flight at once, so
// that they land on different shards.
func spread(t *testing.T, db *postgres.DB, m ledger.Account, amounts []int64) {
	t.Helper()
	ctx := context.Background()
	mustPost(t, db, payment(m, amounts[0]))
	amounts = amounts[1:]
	errs := allInFlight(len(amounts), func(i int, hold func()) error {
		return pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			_, err := ledger.Post(ctx, tx, payment(m, amounts[i]))
			hold()
			return err
		})
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// TestWithdrawWholeBalanceOnce: 50 concurrent withdrawals of the whole
// balance, exactly one succeeds; for a merchant whose balance is spread
// over many shards and for a one-shard wallet.
func TestWithdrawWholeBalanceOnce(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	m := merchant(id.New("mer"), money.USD)
	spread(t, db, m, []int64{100, 200, 300, 400, 500, 600, 700, 800})
	u := wallet(id.New("usr"), money.USD)
	mustPost(t, db, ledger.Transaction{Kind: "topup", Reference: "top_1", Entries: []ledger.Entry{
		{Account: cardIn, Amount: -3600}, {Account: u, Amount: 3600}}})
	for _, a := range []ledger.Account{m, u} {
		whole := balance(t, db.Pool, a)
		const n = 50
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = post(ctx, db, ledger.Transaction{Kind: "payout", Reference: id.New("po"), Entries: []ledger.Entry{
					{Account: a, Amount: -whole}, {Account: cardOut, Amount: whole}}})
			})
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, ledger.ErrInsufficientFunds):
				t.Errorf("%s withdrawal %d: %v", a.Kind, i, err)
			}
		}
		if ok != 1 || balance(t, db.Pool, a) != 0 {
			t.Errorf("%s: %d of %d withdrawals of %d succeeded, balance now %d; want exactly 1 and 0", a.Kind, ok, n, whole, balance(t, db.Pool, a))
		}
	}
	verifyClean(t, db.Pool)
}

// TestOppositeTransfersBothFinish: A→B and B→A at the same time, many
// times over, in transactions without retries: a deadlock would fail one.
func TestOppositeTransfersBothFinish(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	// Merchants, so a debit locks all shards of one account while a credit
	// takes one of the other's.
	a, b := merchant(id.New("mer"), money.USD), merchant(id.New("mer"), money.USD)
	spread(t, db, a, []int64{1000, 1000, 1000})
	spread(t, db, b, []int64{1000, 1000, 1000})
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Go(func() {
			from, to := a, b
			if w%2 == 1 {
				from, to = b, a
			}
			for range rounds {
				if _, err := post(ctx, db, transfer(from, to, 7)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("opposite transfer failed: %v", err)
	}
	if ga, gb := balance(t, db.Pool, a), balance(t, db.Pool, b); ga != 3000 || gb != 3000 {
		t.Errorf("balances %d, %d; want 3000, 3000 (as many transfers each way)", ga, gb)
	}
	verifyClean(t, db.Pool)
}

func TestBalancesCheckAccounts(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	_, err := ledger.Balance(context.Background(), db.Pool, ledger.Account{Kind: "fees", Currency: money.USD})
	if !errors.Is(err, ledger.ErrInvalid) {
		t.Errorf("Balance(unknown kind) = %v, want ErrInvalid", err)
	}
	if _, err := ledger.Balance(context.Background(), db.Pool, merchant("mer_x", money.USD)); !errors.Is(err, ledger.ErrInvalid) {
		t.Errorf("Balance(bad owner) = %v, want ErrInvalid", err)
	}
	if diff := cmp.Diff(ledger.Report{}, verifyClean(t, db.Pool), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Verify(empty ledger) (-want +got):\n%s", diff)
	}
}

// TestPostLater: the posting's insert waits for the commit, its refusals
// come at once like Post's, and a duplicate fails the whole transaction.
func TestPostLater(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	m, u := merchant(id.New("mer"), money.USD), wallet(id.New("usr"), money.USD)
	mustPost(t, db, payment(m, 1000)) // the accounts exist: the insert is queued

	first := payment(m, 2500)
	err := db.WithTxLater(ctx, func(tx pgx.Tx, later *postgres.Writes) error {
		ltx, err := ledger.PostLater(ctx, tx, later, first)
		if err != nil || !id.Valid("ltx", ltx) {
			return fmt.Errorf("PostLater = %q, %v", ltx, err)
		}
		if got := balance(t, tx, m); got != 1000 {
			t.Errorf("balance before commit = %d, want 1000: the insert must wait", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := balance(t, db.Pool, m); got != 3500 {
		t.Fatalf("balance after commit = %d, want 3500", got)
	}

	// Short of funds: refused at once, as by Post.
	err = db.WithTxLater(ctx, func(tx pgx.Tx, later *postgres.Writes) error {
		_, err := ledger.PostLater(ctx, tx, later, transfer(u, m, 1))
		return err
	})
	if !errors.Is(err, ledger.ErrInsufficientFunds) {
		t.Fatalf("PostLater from an empty wallet = %v, want ErrInsufficientFunds", err)
	}

	// A reference posted before: the commit fails and nothing changes.
	again := first
	again.Entries = payment(m, 700).Entries
	err = db.WithTxLater(ctx, func(tx pgx.Tx, later *postgres.Writes) error {
		_, err := ledger.PostLater(ctx, tx, later, again)
		return err
	})
	if !postgres.IsUniqueViolation(err, "ledger_transactions_kind_reference_key") {
		t.Fatalf("PostLater of a posted reference = %v, want the unique violation at commit", err)
	}
	if got := balance(t, db.Pool, m); got != 3500 {
		t.Fatalf("balance after the failed commit = %d, want still 3500", got)
	}
	verifyClean(t, db.Pool)
}

// postLocked posts t through QueueLocks and PostLocked, its locks sent in
// one batch after a statement of the caller's (which must still answer),
// and commits unless check fails.
func postLocked(ctx context.Context, db *postgres.DB, t ledger.Transaction, check func(tx pgx.Tx) error) error {
	return db.WithTxLater(ctx, func(tx pgx.Tx, later *postgres.Writes) error {
		b := &pgx.Batch{}
		b.Queue(`SELECT 41 + 1`)
		locks, err := ledger.QueueLocks(b, t)
		if err != nil {
			return err
		}
		br := tx.SendBatch(ctx, b)
		var answer int
		if err := br.QueryRow().Scan(&answer); err != nil || answer != 42 {
			return fmt.Errorf("the caller's statement answered %d, %v", answer, err)
		}
		if err := locks.Read(br); err != nil {
			return err
		}
		if err := br.Close(); err != nil {
			return err
		}
		if _, err := ledger.PostLocked(ctx, tx, later, locks); err != nil {
			return err
		}
		return check(tx)
	})
}

// TestPostLocked: a posting whose locks rode in the caller's batch posts
// like PostLater, creates accounts that do not exist yet, refuses a
// debit short of funds having changed nothing, and, 32 of them in flight
// together for one merchant, each locks a shard of its own.
func TestPostLocked(t *testing.T) {
	t.Parallel()
	db := bigPool(t, 40)
	ctx := context.Background()
	m, u := merchant(id.New("mer"), money.USD), wallet(id.New("usr"), money.USD)
	none := func(pgx.Tx) error { return nil }

	// The merchant's account does not exist yet: it is created.
	if err := postLocked(ctx, db, payment(m, 1000), none); err != nil {
		t.Fatalf("first payment of a new merchant: %v", err)
	}
	if got := balance(t, db.Pool, m); got != 1000 {
		t.Fatalf("balance = %d, want 1000", got)
	}

	// The accounts exist: the insert waits for the commit.
	err := postLocked(ctx, db, payment(m, 2500), func(tx pgx.Tx) error {
		if got := balance(t, tx, m); got != 1000 {
			return fmt.Errorf("balance before commit = %d, want 1000: the insert must wait", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := balance(t, db.Pool, m); got != 3500 {
		t.Fatalf("balance after commit = %d, want 3500", got)
	}

	// Short of funds, from a wallet with no account yet: refused, and the
	// account made to find that out is gone with its savepoint.
	before := dump(t, db.Pool)
	err = postLocked(ctx, db, transfer(u, m, 1), none)
	if !errors.Is(err, ledger.ErrInsufficientFunds) {
		t.Fatalf("PostLocked from an empty wallet = %v, want ErrInsufficientFunds", err)
	}
	if after := dump(t, db.Pool); after != before {
		t.Fatalf("a refused posting changed the ledger:\n%s", cmp.Diff(before, after))
	}

	// 32 in flight together: each holds a shard of its own until commit.
	const n = 32
	errs := allInFlight(n, func(_ int, hold func()) error {
		return postLocked(ctx, db, payment(m, 100), func(pgx.Tx) error {
			hold()
			return nil
		})
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := balance(t, db.Pool, m); got != 3500+n*100 {
		t.Errorf("balance = %d, want %d", got, 3500+n*100)
	}
	var shards int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id
		WHERE a.kind = 'merchant' AND a.owner = $1 AND b.balance > 0`, m.Owner).Scan(&shards); err != nil {
		t.Fatal(err)
	}
	if shards < n {
		t.Errorf("%d postings in flight together used %d merchant shards, want at least %d", n, shards, n)
	}
	verifyClean(t, db.Pool)
}
