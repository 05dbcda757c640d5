package wallet

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/processor"
)

// Ledger transaction kinds of a withdrawal, each posted once per
// withdrawal (the reference is its transaction id).
const (
	ledgerWithdrawal     = "wallet_withdrawal"      // wallet → payouts_in_flight, when asked
	ledgerPayoutPaid     = "wallet_payout_paid"     // payouts_in_flight → card_out, when paid
	ledgerPayoutReturned = "wallet_payout_returned" // payouts_in_flight → wallet, when refused
)

// Payer is the part of the card processor that pays out to cards.
type Payer interface {
	Payout(ctx context.Context, key string, amount money.Amount, card processor.Card) (processor.Payout, error)
}

// PayoutEnqueuer hands withdrawals to the task queue that settles them.
// EnqueuePayout must be idempotent per withdrawal id (the task id): it
// reports false, nil when the task is already queued or running.
type PayoutEnqueuer interface {
	EnqueuePayout(ctx context.Context, txnID string) (bool, error)
}

// payoutKey is the processor idempotency key of a withdrawal's payout: the
// same for every attempt, so a card is paid once however often the worker
// retries or how many workers race.
func payoutKey(txnID string) string { return "wallet-payout:" + txnID }

// CardPayee is what a passkey confirmation of a withdrawal binds as its
// payee: the card's number under a keyed digest, so the confirmation is
// for that card only and the stored challenge never holds the number.
func (s *Service) CardPayee(number string) string {
	return "card:" + s.keys.Sign("withdrawal payee", []byte(processor.Normalize(number)))
}

// Withdraw takes amount out of u's wallet at once, in tx, towards card:
// one ledger transaction (wallet to payouts_in_flight), a withdrawal in
// the history with status processing, a notification, and the payout row
// the worker settles (SettlePayout). card must have passed
// processor.Validate; only its number and expiry are kept, sealed, until
// the payout is settled. It returns ErrInsufficientFunds when the balance
// is short, however many withdrawals and transfers race.
func (s *Service) Withdraw(ctx context.Context, tx pgx.Tx, u *User, amount money.Amount, card processor.Card, details Card) (*Transaction, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	t := &Transaction{ID: id.NewAt("txn", now), UserID: u.ID, Type: TypeWithdrawal, Status: StatusProcessing, Amount: amount,
		CardBrand: &details.Brand, CardLast4: &details.Last4, CreatedAt: now, UpdatedAt: now}
	t.Reference = t.ID
	if err := post(ctx, tx, ledger.Transaction{Kind: ledgerWithdrawal, Reference: t.ID, Entries: []ledger.Entry{
		{Account: walletAccount(u.ID, amount.Currency), Amount: -amount.Minor},
		{Account: ledger.Account{Kind: ledger.PayoutsInFlight, Currency: amount.Currency}, Amount: amount.Minor},
	}}); err != nil {
		return nil, err
	}
	if err := record(ctx, tx, t, u.Email, fmt.Sprintf("You are withdrawing %s to your %s.",
		amount, details.Words())); err != nil {
		return nil, err
	}
	sealed := s.keys.Seal([]byte(sealCard(card)), []byte(t.ID))
	if _, err := tx.Exec(ctx, insertPayout, t.ID, u.ID, amount.Minor, string(amount.Currency), sealed, now); err != nil {
		return nil, fmt.Errorf("insert payout: %w", err)
	}
	return t, nil
}

// sealCard and openCard are the plaintext form of a payout's card inside
// its seal: number and expiry, never the CVC.
func sealCard(c processor.Card) string {
	return processor.Normalize(c.Number) + " " + strconv.Itoa(c.ExpMonth) + " " + strconv.Itoa(c.ExpYear)
}

func openCard(s string) (processor.Card, error) {
	f := strings.Fields(s)
	if len(f) != 3 {
		return processor.Card{}, errors.New("malformed sealed card")
	}
	m, err1 := strconv.Atoi(f[1])
	y, err2 := strconv.Atoi(f[2])
	if err := errors.Join(err1, err2); err != nil {
		return processor.Card{}, fmt.Errorf("malformed sealed card: %w", err)
	}
	return processor.Card{Number: f[0], ExpMonth: m, ExpYear: y}, nil
}

// SettlePayout pays out withdrawal txnID if it is still processing and
// settles it: paid, the money moves from payouts_in_flight to card_out and
// the withdrawal succeeds; refused, it goes back to the wallet and the
// withdrawal fails with the processor's code. Each happens exactly once:
// the processor call is keyed by the withdrawal, and the settlement
// commits only while the payout row, locked, is still processing. An error
// (processor unreachable) leaves it processing for a retry.
func (s *Service) SettlePayout(ctx context.Context, p Payer, txnID string) error {
	var (
		amount money.Amount
		cur    string
		sealed []byte
		status string
	)
	err := s.db.Pool.QueryRow(ctx, selectPayout, txnID).Scan(&amount.Minor, &cur, &sealed, &status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return ErrTransactionNotFound
	case err != nil:
		return fmt.Errorf("read payout %s: %w", txnID, err)
	case status != StatusProcessing:
		return nil
	}
	amount.Currency = money.Currency(cur)
	plain, err := s.keys.Open(sealed, []byte(txnID))
	if err != nil {
		return fmt.Errorf("open payout %s card: %w", txnID, err)
	}
	card, err := openCard(string(plain))
	if err != nil {
		return fmt.Errorf("payout %s: %w", txnID, err)
	}
	res, err := p.Payout(ctx, payoutKey(txnID), amount, card)
	if err != nil {
		return fmt.Errorf("payout %s: %w", txnID, err)
	}
	return s.db.WithTx(ctx, func(tx pgx.Tx) error { return s.finishPayout(ctx, tx, txnID, amount, res) })
}

// finishPayout records the processor's answer res for withdrawal txnID in
// tx, unless another run already did.
func (s *Service) finishPayout(ctx context.Context, tx pgx.Tx, txnID string, amount money.Amount, res processor.Payout) error {
	var userID, status string
	if err := tx.QueryRow(ctx, lockPayout, txnID).Scan(&userID, &status); err != nil {
		return fmt.Errorf("lock payout %s: %w", txnID, err)
	}
	if status != StatusProcessing {
		return nil
	}
	u, err := scanUser(tx.QueryRow(ctx, selectUser, userID))
	if err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	inFlight := ledger.Account{Kind: ledger.PayoutsInFlight, Currency: amount.Currency}
	var (
		final, kind, message string
		to                   ledger.Account
		code                 *string
	)
	if res.Status == processor.PayoutPaid {
		final, kind, to = StatusSucceeded, ledgerPayoutPaid, ledger.Account{Kind: ledger.CardOut, Currency: amount.Currency}
		message = fmt.Sprintf("Your withdrawal of %s was paid to your card.", amount)
	} else {
		final, kind, to, code = StatusFailed, ledgerPayoutReturned, walletAccount(userID, amount.Currency), &res.FailureCode
		message = fmt.Sprintf("Your withdrawal of %s failed (%s); the money is back in your wallet.", amount,
			strings.ReplaceAll(res.FailureCode, "_", " "))
	}
	if err := post(ctx, tx, ledger.Transaction{Kind: kind, Reference: txnID, Entries: []ledger.Entry{
		{Account: inFlight, Amount: -amount.Minor}, {Account: to, Amount: amount.Minor},
	}}); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, settlePayout, txnID, final, code, res.ID, now); err != nil {
		return fmt.Errorf("settle payout %s: %w", txnID, err)
	}
	rows, err := tx.Query(ctx, setTransactionStatus, txnID, final, code, now)
	if err != nil {
		return fmt.Errorf("update withdrawal %s: %w", txnID, err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanTransaction)
	if err != nil {
		return fmt.Errorf("update withdrawal %s: %w", txnID, err)
	}
	return notifyStatus(ctx, tx, &t, u.Email, message)
}

// RelayPayouts hands up to limit withdrawals not yet given to the task
// queue, and not held (HoldPayout), to q and marks them handed over, as
// the webhook outbox does: rows are claimed with SKIP LOCKED, and a crash
// between hand-over and commit hands them over again, which q ignores.
// It returns how many it handed over.
func (s *Service) RelayPayouts(ctx context.Context, q PayoutEnqueuer, limit int) (int, error) {
	tx, err := s.db.Pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("relay payouts: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after commit
	rows, err := tx.Query(ctx, selectUnrelayedPayouts, limit, s.now().UTC())
	if err != nil {
		return 0, fmt.Errorf("relay payouts: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("relay payouts: %w", err)
	}
	done := make([]string, 0, len(ids))
	var enqErr error
	for _, txnID := range ids {
		if _, enqErr = q.EnqueuePayout(ctx, txnID); enqErr != nil {
			break
		}
		done = append(done, txnID)
	}
	if len(done) == 0 {
		return 0, enqErr
	}
	if _, err := tx.Exec(ctx, markPayoutsRelayed, done, s.now().UTC()); err != nil {
		return 0, fmt.Errorf("mark payouts relayed: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("mark payouts relayed: %w", err)
	}
	return len(done), enqErr
}

// SweepPayouts hands to q again every withdrawal still processing that
// was handed over more than grace ago: q ignores those whose task is still
// queued or running, so only tasks Redis lost (or Asynq gave up on) come
// back. It returns how many were queued again.
func (s *Service) SweepPayouts(ctx context.Context, q PayoutEnqueuer, grace time.Duration) (int, error) {
	rows, err := s.db.Pool.Query(ctx, selectOverduePayouts, s.now().UTC().Add(-grace))
	if err != nil {
		return 0, fmt.Errorf("sweep payouts: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("sweep payouts: %w", err)
	}
	n := 0
	for _, txnID := range ids {
		again, err := q.EnqueuePayout(ctx, txnID)
		if err != nil {
			return n, err
		}
		if again {
			n++
		}
	}
	return n, nil
}
