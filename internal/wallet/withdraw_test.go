package wallet

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/redistest"
	"github.com/paylink/paylink/internal/seal"
)

// fixture is a wallet service on a database of its own with a simulator.
type fixture struct {
	t   *testing.T
	ctx context.Context
	s   *Service
	sim *processor.Simulator
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := pgtest.New(t)
	rdb, _ := redistest.New(t)
	keys, err := seal.Parse("1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	s := NewService(db, rdb, keys, Config{SessionTTL: time.Hour, MaxFailures: 10, Lockout: time.Minute}, time.Now)
	return &fixture{t: t, ctx: context.Background(), s: s, sim: processor.NewSimulator(bytes.Repeat([]byte{9}, 32), processor.NewRedisKeys(rdb), time.Now)}
}

// user signs up email and tops it up with usd minor units of USD.
func (f *fixture) user(email string, usd int64) *User {
	f.t.Helper()
	su, err := ValidateSignUp(SignUp{Email: email, Password: "0123456789", FirstName: "W", LastName: "D", Phone: "+14155550123"})
	if err != nil {
		f.t.Fatal(err)
	}
	var u *User
	f.tx(func(tx pgx.Tx) (err error) {
		if u, err = f.s.CreateUser(f.ctx, tx, su, "x"); err != nil {
			return err
		}
		_, err = f.s.TopUp(f.ctx, tx, u, money.Amount{Minor: usd, Currency: money.USD}, Card{"visa", "4242"}, "auth_"+email)
		return err
	})
	return u
}

func (f *fixture) tx(fn func(pgx.Tx) error) {
	f.t.Helper()
	if err := f.s.db.WithTx(f.ctx, fn); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) withdraw(u *User, minor int64, number string) (*Transaction, error) {
	var t *Transaction
	err := f.s.db.WithTx(f.ctx, func(tx pgx.Tx) (err error) {
		card := processor.Card{Number: number, ExpMonth: 12, ExpYear: 2035}
		t, err = f.s.Withdraw(f.ctx, tx, u, money.Amount{Minor: minor, Currency: money.USD}, card, Card{"visa", processor.Last4(number)})
		return err
	})
	return t, err
}

func (f *fixture) balance(a ledger.Account) int64 {
	f.t.Helper()
	b, err := ledger.Balance(f.ctx, f.s.db.Pool, a)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (f *fixture) verify() {
	f.t.Helper()
	rep, err := ledger.Verify(f.ctx, f.s.db.Pool)
	if err != nil || !rep.OK() {
		f.t.Fatalf("ledger verify: %+v, %v", rep, err)
	}
}

var inFlight = ledger.Account{Kind: ledger.PayoutsInFlight, Currency: money.USD}

// TestWithdrawalSettles: a withdrawal takes the money at once into
// payouts_in_flight; paid, it goes to card_out, refused, back to the
// wallet; each is settled once however often SettlePayout runs, the
// ledger verifies after each, and the card is kept only sealed and only
// until the payout is settled.
func TestWithdrawalSettles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, number, status, code string
		wallet, cardOut            int64
	}{
		{"paid", processor.CardVisa, StatusSucceeded, "", 3000, 2000},
		{"refused", processor.CardDeclined, StatusFailed, processor.CodeCardDeclined, 5000, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			u := f.user("w-"+tc.name+"@example.test", 5000)
			w, err := f.withdraw(u, 2000, tc.number)
			if err != nil {
				t.Fatal(err)
			}
			if w.Type != TypeWithdrawal || w.Status != StatusProcessing || w.Amount.Minor != 2000 {
				t.Fatalf("withdrawal = %+v", w)
			}
			if got := f.balance(walletAccount(u.ID, money.USD)); got != 3000 {
				t.Fatalf("wallet right after = %d, want 3000", got)
			}
			if got := f.balance(inFlight); got != 2000 {
				t.Fatalf("in flight = %d, want 2000", got)
			}
			var sealed []byte
			if err := f.s.db.Pool.QueryRow(f.ctx, `SELECT card_sealed FROM wallet_payouts WHERE id = $1`, w.ID).Scan(&sealed); err != nil {
				t.Fatal(err)
			}
			if len(sealed) == 0 || bytes.Contains(sealed, []byte(tc.number)) {
				t.Fatalf("sealed card %q: empty or readable", sealed)
			}
			f.verify()
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs { // racing settlers, as two workers would be
				wg.Add(1)
				go func() { defer wg.Done(); errs[i] = f.s.SettlePayout(f.ctx, f.sim, w.ID) }()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			if err := f.s.SettlePayout(f.ctx, f.sim, w.ID); err != nil {
				t.Fatal(err)
			}
			got, err := f.s.Transaction(f.ctx, f.s.db.Pool, u.ID, w.ID)
			if err != nil {
				t.Fatal(err)
			}
			code := ""
			if got.FailureCode != nil {
				code = *got.FailureCode
			}
			if got.Status != tc.status || code != tc.code {
				t.Fatalf("settled = %s %q, want %s %q", got.Status, code, tc.status, tc.code)
			}
			if b := f.balance(walletAccount(u.ID, money.USD)); b != tc.wallet {
				t.Errorf("wallet = %d, want %d", b, tc.wallet)
			}
			if b := f.balance(ledger.Account{Kind: ledger.CardOut, Currency: money.USD}); b != tc.cardOut {
				t.Errorf("card_out = %d, want %d", b, tc.cardOut)
			}
			if b := f.balance(inFlight); b != 0 {
				t.Errorf("in flight = %d, want 0", b)
			}
			var settlements, notes int
			var left []byte
			if err := f.s.db.Pool.QueryRow(f.ctx, `SELECT
				(SELECT count(*) FROM ledger_transactions WHERE reference = $1 AND kind <> 'wallet_withdrawal'),
				(SELECT count(*) FROM wallet_notifications WHERE transaction_id = $1 AND type = $2),
				(SELECT card_sealed FROM wallet_payouts WHERE id = $1)`, w.ID, "withdrawal."+tc.status).Scan(&settlements, &notes, &left); err != nil {
				t.Fatal(err)
			}
			if settlements != 1 || notes != 1 || left != nil {
				t.Errorf("%d settlements, %d notifications, card left %v; want 1, 1, none", settlements, notes, left)
			}
			f.verify()
		})
	}
}

// TestWithdrawalsAndTransfersNeverOverdraw: withdrawals and transfers
// from one wallet race; exactly as many succeed as the balance covers,
// the rest are ErrInsufficientFunds, and nothing goes below zero.
func TestWithdrawalsAndTransfersNeverOverdraw(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	alice := f.user("race-w@example.test", 1000)
	bob := f.user("race-t@example.test", 1)
	const n = 40 // 40 × 30 = 1200 > 1000
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]error, n)
		ids     = make([]string, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if i%2 == 0 {
				w, err := f.withdraw(alice, 30, processor.CardVisa)
				results[i] = err
				if err == nil {
					ids[i] = w.ID
				}
				return
			}
			results[i] = f.s.db.WithTx(f.ctx, func(tx pgx.Tx) error {
				_, err := f.s.Transfer(f.ctx, tx, alice, bob, money.Amount{Minor: 30, Currency: money.USD}, "")
				return err
			})
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrInsufficientFunds):
			t.Errorf("movement %d: %v", i, err)
		}
	}
	if ok != 33 {
		t.Errorf("%d movements succeeded, want 33 (990 of 1000)", ok)
	}
	if b := f.balance(walletAccount(alice.ID, money.USD)); b != 10 {
		t.Errorf("alice = %d, want 10", b)
	}
	for _, id := range ids {
		if id != "" {
			if err := f.s.SettlePayout(f.ctx, f.sim, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	if b := f.balance(inFlight); b != 0 {
		t.Errorf("in flight after settling = %d, want 0", b)
	}
	f.verify()
}

// failingPayer answers that the processor is unreachable.
type failingPayer struct{}

func (failingPayer) Payout(context.Context, string, money.Amount, processor.Card) (processor.Payout, error) {
	return processor.Payout{}, processor.ErrUnavailable
}

// TestPayoutProcessorDown: a payout the processor did not answer stays
// processing with the money in flight, and settles on the next try.
func TestPayoutProcessorDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.user("down@example.test", 500)
	w, err := f.withdraw(u, 500, processor.CardMastercard)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.SettlePayout(f.ctx, failingPayer{}, w.ID); !errors.Is(err, processor.ErrUnavailable) {
		t.Fatalf("settle with the processor down = %v", err)
	}
	if got, _ := f.s.Transaction(f.ctx, f.s.db.Pool, u.ID, w.ID); got.Status != StatusProcessing || f.balance(inFlight) != 500 {
		t.Fatalf("after a failed attempt: %s, in flight %d", got.Status, f.balance(inFlight))
	}
	if _, err := f.withdraw(u, 1, processor.CardVisa); !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("withdrawing the money in flight again = %v", err)
	}
	if err := f.s.SettlePayout(f.ctx, f.sim, w.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.s.Transaction(f.ctx, f.s.db.Pool, u.ID, w.ID); got.Status != StatusSucceeded {
		t.Fatalf("after the retry: %s", got.Status)
	}
	if err := f.s.SettlePayout(f.ctx, f.sim, "txn_missing"); !errors.Is(err, ErrTransactionNotFound) {
		t.Fatalf("settling an unknown withdrawal = %v", err)
	}
	f.verify()
	var msgs []string
	rows, _ := f.s.db.Pool.Query(f.ctx, `SELECT message FROM wallet_notifications WHERE transaction_id = $1 ORDER BY id`, w.ID)
	msgs, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(msgs) != 2 || !strings.Contains(msgs[1], "paid") {
		t.Fatalf("notifications %q (%v); want processing then paid", msgs, err)
	}
}
