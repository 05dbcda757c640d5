package ledger_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/pgtest"
)

// TestInvariants runs random sequences of payments, refunds, top-ups,
// transfers, wallet payments, payouts and replayed references against a
// model of the balances. After every step each currency sums to zero over
// all accounts and every balance equals the model's; a rejected step
// changed no row at all.
func TestInvariants(t *testing.T) {
	t.Parallel()
	for seed := range uint64(3) {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			runInvariants(t, seed, 150)
		})
	}
}

func runInvariants(t *testing.T, seed uint64, steps int) {
	db := pgtest.New(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 42))
	currencies := []money.Currency{money.USD, money.JPY, money.BHD}
	merchants := []string{id.New("mer"), id.New("mer")}
	users := []string{id.New("usr"), id.New("usr"), id.New("usr")}
	model := map[ledger.Account]int64{}
	var posted []ledger.Transaction
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	amount := func() int64 { return 1 + rng.Int64N(5000) }

	for step := range steps {
		c := currencies[rng.IntN(len(currencies))]
		in := ledger.Account{Kind: ledger.CardIn, Currency: c}
		out := ledger.Account{Kind: ledger.CardOut, Currency: c}
		m, u := merchant(pick(merchants), c), wallet(pick(users), c)
		var tx ledger.Transaction
		switch op := rng.IntN(7); op {
		case 0:
			tx = payment(m, amount())
		case 1:
			tx = ledger.Transaction{Kind: "refund", Reference: id.New("re"), Entries: []ledger.Entry{{Account: m, Amount: -amount()}, {Account: out, Amount: 0}}}
		case 2:
			tx = ledger.Transaction{Kind: "topup", Reference: id.New("txn"), Entries: []ledger.Entry{{Account: in, Amount: -amount()}, {Account: u, Amount: 0}}}
		case 3:
			to := wallet(pick(users), c)
			if to == u {
				continue
			}
			tx = transfer(u, to, amount())
		case 4:
			tx = ledger.Transaction{Kind: "wallet_payment", Reference: id.New("pay"), Entries: []ledger.Entry{{Account: u, Amount: -amount()}, {Account: m, Amount: 0}}}
		case 5:
			// A payout of the whole balance, or of one more than it.
			whole := model[m] + int64(rng.IntN(2))
			if whole == 0 {
				continue
			}
			tx = ledger.Transaction{Kind: "payout", Reference: id.New("po"), Entries: []ledger.Entry{{Account: m, Amount: -whole}, {Account: out, Amount: 0}}}
		case 6:
			if len(posted) == 0 {
				continue
			}
			tx = posted[rng.IntN(len(posted))] // a replay
		}
		// Balance the second leg where it was left at zero.
		if tx.Entries[1].Amount == 0 {
			tx.Entries[1].Amount = -tx.Entries[0].Amount
		}

		var wantErr error
		for _, e := range tx.Entries {
			if e.Account.Kind != ledger.CardIn && e.Account.Kind != ledger.CardOut && model[e.Account]+e.Amount < 0 {
				wantErr = ledger.ErrInsufficientFunds
			}
		}
		for _, p := range posted {
			if p.Kind == tx.Kind && p.Reference == tx.Reference {
				wantErr = ledger.ErrDuplicate
			}
		}
		before := dump(t, db.Pool)
		_, err := post(ctx, db, tx)
		if !errors.Is(err, wantErr) {
			t.Fatalf("step %d: Post(%s %+v) = %v, want %v", step, tx.Kind, tx.Entries, err, wantErr)
		}
		if err != nil {
			if diff := cmp.Diff(before, dump(t, db.Pool)); diff != "" {
				t.Fatalf("step %d: rejected %s changed the ledger (-before +after):\n%s", step, tx.Kind, diff)
			}
		} else {
			posted = append(posted, tx)
			for _, e := range tx.Entries {
				model[e.Account] += e.Amount
			}
		}

		got := map[ledger.Account]int64{}
		for a := range model {
			got[a] = balance(t, db.Pool, a)
		}
		if diff := cmp.Diff(model, got); diff != "" {
			t.Fatalf("step %d (%s): balances differ from the model (-model +ledger):\n%s", step, tx.Kind, diff)
		}
		rows, err := db.Pool.Query(ctx, `SELECT a.currency, sum(b.balance)::bigint FROM ledger_balances b
			JOIN ledger_accounts a ON a.id = b.account_id GROUP BY a.currency HAVING sum(b.balance) <> 0`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var cur string
			var sum int64
			if err := rows.Scan(&cur, &sum); err != nil {
				t.Fatal(err)
			}
			t.Errorf("step %d: %s balances sum to %d, not 0", step, cur, sum)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if len(posted) < steps/3 {
		t.Errorf("only %d of %d steps posted: the sequence tests too little", len(posted), steps)
	}
	verifyClean(t, db.Pool)
}
