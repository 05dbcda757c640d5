package wallet

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/processor"
)

// Blocked records, in tx, a top-up or withdrawal (typ) of amount on card
// that risk screening blocked before the processor was asked: a failed
// history entry (failure_code payment_blocked) under the reference ref,
// notified like any failure. No money moves. The same ref twice is
// refused by the unique (reference, type) index.
func (s *Service) Blocked(ctx context.Context, tx pgx.Tx, u *User, typ string, amount money.Amount, card Card, ref string) (*Transaction, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	code := processor.CodePaymentBlocked
	t := &Transaction{ID: id.NewAt("txn", now), UserID: u.ID, Type: typ, Status: StatusFailed, Amount: amount,
		Reference: ref, CardBrand: &card.Brand, CardLast4: &card.Last4, FailureCode: &code, CreatedAt: now, UpdatedAt: now}
	what := "Adding %s to your wallet"
	if typ == TypeWithdrawal {
		what = "Withdrawing %s"
	}
	return t, record(ctx, tx, t, u.Email, fmt.Sprintf(what+" with your %s failed.", amount, card.Words()))
}

// HoldPayout keeps withdrawal txnID's payout, in tx, from being handed to
// the worker (RelayPayouts) before until.
func HoldPayout(ctx context.Context, tx pgx.Tx, txnID string, until time.Time) error {
	if _, err := tx.Exec(ctx, holdPayout, txnID, until); err != nil {
		return fmt.Errorf("hold payout %s: %w", txnID, err)
	}
	return nil
}
