package worker

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/wallet"
)

// holdPayoutEnv makes the child worker's payouts announce themselves on
// stdout and then hang until the process is killed.
const holdPayoutEnv = "PAYLINK_TEST_CHILD_HOLD_PAYOUT"

type holdPayout struct{ processor.Processor }

func (holdPayout) Payout(ctx context.Context, key string, _ money.Amount, _ processor.Card) (processor.Payout, error) {
	fmt.Println("payout started", key)
	<-ctx.Done()
	return processor.Payout{}, ctx.Err()
}

// withdrawal signs up a wallet user, credits it usd and withdraws amount
// of it to the card number, as the wallet's route does; it returns the
// withdrawal's id and the user.
func (h *harness) withdrawal(email, number string, usd, amount int64) (string, *wallet.User) {
	h.t.Helper()
	su, err := wallet.ValidateSignUp(wallet.SignUp{Email: email, Password: "0123456789", FirstName: "W", LastName: "K", Phone: "+14155550123"})
	if err != nil {
		h.t.Fatal(err)
	}
	var (
		u *wallet.User
		t *wallet.Transaction
	)
	h.tx(func(tx pgx.Tx) (err error) {
		if u, err = h.deps.Wallet.CreateUser(h.ctx, tx, su, "x"); err != nil {
			return err
		}
		if _, err = h.deps.Wallet.TopUp(h.ctx, tx, u, money.Amount{Minor: usd, Currency: money.USD}, wallet.Card{Brand: "visa", Last4: "4242"}, "auth_"+email); err != nil {
			return err
		}
		t, err = h.deps.Wallet.Withdraw(h.ctx, tx, u, money.Amount{Minor: amount, Currency: money.USD},
			processor.Card{Number: number, ExpMonth: 12, ExpYear: 2035}, wallet.Card{Brand: "visa", Last4: processor.Last4(number)})
		return err
	})
	return t.ID, u
}

// settled checks withdrawal id ended in status with one settlement in the
// ledger, user's balance at balance, nothing left in flight, and a ledger
// that verifies.
func (h *harness) settled(id string, u *wallet.User, status string, balance int64) {
	h.t.Helper()
	t, err := h.deps.Wallet.Transaction(h.ctx, h.db.Pool, u.ID, id)
	if err != nil {
		h.t.Fatal(err)
	}
	var settlements int
	if err := h.db.Pool.QueryRow(h.ctx, `SELECT count(*) FROM ledger_transactions
		WHERE reference = $1 AND kind IN ('wallet_payout_paid', 'wallet_payout_returned')`, id).Scan(&settlements); err != nil {
		h.t.Fatal(err)
	}
	got, _ := ledger.Balance(h.ctx, h.db.Pool, ledger.Account{Kind: ledger.Wallet, Owner: u.ID, Currency: money.USD})
	flying, _ := ledger.Balance(h.ctx, h.db.Pool, ledger.Account{Kind: ledger.PayoutsInFlight, Currency: money.USD})
	if t.Status != status || settlements != 1 || got != balance || flying != 0 {
		h.t.Fatalf("withdrawal %s with %d settlements, balance %d, %d in flight; want %s, 1, %d, 0",
			t.Status, settlements, got, flying, status, balance)
	}
	rep, err := ledger.Verify(h.ctx, h.db.Pool)
	if err != nil || !rep.OK() {
		h.t.Fatalf("ledger verify: %+v, %v", rep, err)
	}
}

// waitPayouts waits until the payout task of every id has succeeded, in
// whatever order they finish.
func (h *harness) waitPayouts(ids ...string) {
	h.t.Helper()
	left := map[string]bool{}
	for _, id := range ids {
		left[id] = true
	}
	deadline := time.After(waitLimit)
	for len(left) > 0 {
		select {
		case f := <-h.finished:
			if f.typ == TypeWalletPayout && f.err == nil {
				delete(left, f.id)
			}
		case <-deadline:
			h.t.Fatalf("payout tasks %v did not succeed within %s", left, waitLimit)
		}
	}
}

// TestWorkerSettlesWithdrawals: the relay hands committed withdrawals to
// Asynq and the task settles each: paid, or refused with the money back.
func TestWorkerSettlesWithdrawals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 5*time.Second)
	paid, alice := h.withdrawal("paid@example.test", processor.CardVisa, 900, 400)
	refused, bob := h.withdrawal("refused@example.test", processor.CardInsufficientFunds, 900, 400)
	h.run(h.newWorker())
	h.waitPayouts(paid, refused)
	h.settled(paid, alice, wallet.StatusSucceeded, 500)
	h.settled(refused, bob, wallet.StatusFailed, 900)
}

// TestRedisFlushedBeforePayout: the withdrawal was handed to Asynq, then
// Redis lost everything; the sweep finds it processing in PostgreSQL and
// it is settled once.
func TestRedisFlushedBeforePayout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 5*time.Second)
	id, u := h.withdrawal("flushed@example.test", processor.CardVisa, 700, 700)
	w := h.newWorker()
	w.relay(h.ctx, map[string]time.Time{})
	if _, err := w.queue.inspector.GetTaskInfo(QueuePayouts, id); err != nil {
		t.Fatalf("task not in Redis after the relay: %v", err)
	}
	if err := h.rdb.FlushDB(h.ctx).Err(); err != nil {
		t.Fatal(err)
	}
	h.run(w)
	w.sweep(h.ctx, 0)
	h.waitSucceeded(TypeWalletPayout, id, waitLimit)
	h.settled(id, u, wallet.StatusSucceeded, 0)
	if n, err := h.deps.Wallet.SweepPayouts(h.ctx, w.queue, 0); n != 0 || err != nil {
		t.Fatalf("second sweep = %d, %v; want nothing left", n, err)
	}
}

// TestWorkerKilledMidPayout: a worker process is SIGKILLed while its
// payout call is in flight. The money stays in flight, and a new worker
// settles the withdrawal exactly once after Asynq's lease on the dead
// worker's task expired (expireLeases).
func TestWorkerKilledMidPayout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 5*time.Second)
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"=1", holdPayoutEnv+"=1", "PAYLINK_TEST_CHILD_DB="+h.dbURL,
		"PAYLINK_TEST_CHILD_REDIS="+h.redisURL, "PAYLINK_TEST_CHILD_TIMEOUT=5s")
	var childLog syncBuffer
	child.Stderr = &childLog
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill() })
	id, u := h.withdrawal("killed@example.test", processor.CardVisa, 1000, 600)
	started := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "payout started") {
				started <- sc.Text()
				return
			}
		}
	}()
	select {
	case line := <-started:
		if !strings.HasSuffix(line, id) {
			t.Fatalf("child paid out %q, want %s", line, id)
		}
	case <-time.After(waitLimit):
		t.Fatalf("the child worker never started the payout:\n%s", childLog.String())
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	flying, _ := ledger.Balance(h.ctx, h.db.Pool, ledger.Account{Kind: ledger.PayoutsInFlight, Currency: money.USD})
	if t0, _ := h.deps.Wallet.Transaction(h.ctx, h.db.Pool, u.ID, id); t0.Status != wallet.StatusProcessing || flying != 600 {
		t.Fatalf("after the kill: %s with %d in flight; want processing with 600", t0.Status, flying)
	}
	h.expireLeases(t)
	h.run(h.newWorker())
	h.waitSucceeded(TypeWalletPayout, id, 3*time.Minute)
	h.settled(id, u, wallet.StatusSucceeded, 400)
}
