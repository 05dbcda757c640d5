package walletrisk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
)

// HeldPayout is a withdrawal whose payout screening holds (see
// WithdrawalHold): who asked for it, how much, until when, and why.
type HeldPayout struct {
	TransactionID string
	UserEmail     string
	Amount        money.Amount
	Requested     time.Time
	Until         time.Time
	Score         int
	Reasons       []string
}

// ErrNotHeld means a withdrawal's payout is not held: there is no such
// withdrawal, its hold has ended or was released, or it is settled.
var ErrNotHeld = errors.New("walletrisk: no held payout with that withdrawal id")

const (
	selectHeld = `
SELECT p.id, u.email, p.amount, p.currency, p.created_at, p.hold_until, coalesce(r.score, 0), coalesce(r.reasons, '{}')
FROM wallet_payouts p
JOIN users u ON u.id = p.user_id
LEFT JOIN wallet_risk r ON r.transaction_id = p.id
WHERE p.status = 'processing' AND p.hold_until > $1
ORDER BY p.hold_until, p.id
LIMIT $2`

	releaseHeld = `
UPDATE wallet_payouts SET hold_until = $2
WHERE id = $1 AND status = 'processing' AND hold_until > $2`
)

// HeldPayouts lists up to limit payouts still held at now, the soonest
// to be paid first, for an operator deciding whether to release them.
func HeldPayouts(ctx context.Context, db postgres.DBTX, now time.Time, limit int) ([]HeldPayout, error) {
	rows, err := db.Query(ctx, selectHeld, now, limit)
	if err != nil {
		return nil, fmt.Errorf("list held payouts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HeldPayout, error) {
		var (
			h        HeldPayout
			currency string
		)
		err := r.Scan(&h.TransactionID, &h.UserEmail, &h.Amount.Minor, &currency, &h.Requested, &h.Until, &h.Score, &h.Reasons)
		h.Amount.Currency = money.Currency(currency)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("list held payouts: %w", err)
	}
	return out, nil
}

// ReleasePayout ends the hold of withdrawal txnID's payout at now, after
// an operator has looked at it: the worker pays it out on its next relay,
// as if the hold had run out. It returns ErrNotHeld for a payout that is
// not held.
func ReleasePayout(ctx context.Context, db postgres.DBTX, txnID string, now time.Time) error {
	tag, err := db.Exec(ctx, releaseHeld, txnID, now)
	if err != nil {
		return fmt.Errorf("release payout %s: %w", txnID, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotHeld
	}
	return nil
}
