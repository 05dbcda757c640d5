package checkout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/riskreview"
	"github.com/paylink/paylink/internal/webhook"
	"github.com/paylink/paylink/internal/wire"
)

// Refund is money returned on a succeeded payment. Reason is one of
// Reasons, or "" when the merchant gave none.
type Refund struct {
	ID         string
	MerchantID string
	PaymentID  string
	Amount     money.Amount
	Status     string
	Reason     string
	CreatedAt  time.Time
}

// Reasons are why a merchant may say it refunds.
var Reasons = []string{"requested_by_customer", "duplicate", "fraudulent"}

// Refund is RefundFor without a reason.
func (s *Service) Refund(ctx context.Context, tx pgx.Tx, merchantID, payID string, amount *int64) (*Refund, *Payment, error) {
	return s.RefundFor(ctx, tx, merchantID, payID, NewRefund{Amount: amount})
}

// NewRefund is what a merchant asks to refund: Amount (the whole rest
// when nil) and an optional Reason, one of Reasons.
type NewRefund struct {
	Amount *int64
	Reason string
}

// CheckRefund says whether in could be refunded on p as p stands: it
// returns ErrReasonInvalid, ErrNotRefundable, money.ErrAmountInvalid or
// ErrRefundExceeds. RefundFor checks it again under the payment's lock;
// a page may call it first to refuse before asking for confirmation.
func CheckRefund(p *Payment, in NewRefund) error {
	if in.Reason != "" && !slices.Contains(Reasons, in.Reason) {
		return ErrReasonInvalid
	}
	if p.Status != Succeeded {
		return ErrNotRefundable
	}
	left := money.Amount{Minor: p.Amount.Minor - p.AmountRefunded, Currency: p.Amount.Currency}
	x := left.Minor
	if in.Amount != nil {
		x = *in.Amount
	}
	switch {
	case x < 1 && in.Amount != nil:
		return money.ErrAmountInvalid
	case x < 1 || x > left.Minor: // the message says how much is left, so the merchant knows what would go through
		return ErrRefundExceeds.WithMessage(fmt.Sprintf("The refund is more than the %s left to refund on this payment.", left))
	}
	return nil
}

// RefundFor refunds in.Amount of merchantID's payment payID, in tx, under
// the payment's row lock so that concurrent refunds never add up to more
// than the payment: the refund row, amount_refunded, the ledger postings
// {merchant −x, card_out +x} and payment.refunded. The processor is asked
// after commit (SendRefund). It returns ErrReasonInvalid, ErrNotFound,
// ErrNotRefundable, ErrRefundExceeds, money.ErrAmountInvalid or
// ErrBalanceInsufficient.
func (s *Service) RefundFor(ctx context.Context, tx pgx.Tx, merchantID, payID string, in NewRefund) (*Refund, *Payment, error) {
	p, err := scanPayment(tx.QueryRow(ctx, lockPayment, merchantID, payID))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, nil, ErrNotFound
	case err != nil:
		return nil, nil, fmt.Errorf("lock payment: %w", err)
	}
	if err := CheckRefund(p, in); err != nil {
		return nil, nil, err
	}
	x := p.Amount.Minor - p.AmountRefunded
	if in.Amount != nil {
		x = *in.Amount
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	r := &Refund{ID: id.NewAt("re", now), MerchantID: merchantID, PaymentID: payID,
		Amount: money.Amount{Minor: x, Currency: p.Amount.Currency}, Status: "succeeded", Reason: in.Reason, CreatedAt: now}
	if _, err := tx.Exec(ctx, addRefunded, merchantID, payID, x, now); err != nil {
		if postgres.IsCheckViolation(err, "payments_refund_within_amount") {
			return nil, nil, ErrRefundExceeds
		}
		return nil, nil, fmt.Errorf("add refunded amount: %w", err)
	}
	if _, err := tx.Exec(ctx, insertRefund, r.ID, merchantID, payID, x, string(r.Amount.Currency), now, wire.OrNil(r.Reason)); err != nil {
		return nil, nil, fmt.Errorf("insert refund: %w", err)
	}
	if p.Method == MethodWallet {
		err = refundWallet(ctx, tx, p, r, now)
	} else {
		_, err = ledger.Post(ctx, tx, ledger.Transaction{Kind: "refund", Reference: r.ID, Entries: []ledger.Entry{
			{Account: ledger.Account{Kind: ledger.Merchant, Owner: merchantID, Currency: r.Amount.Currency}, Amount: -x},
			{Account: ledger.Account{Kind: ledger.CardOut, Currency: r.Amount.Currency}, Amount: x},
		}})
	}
	switch {
	case errors.Is(err, ledger.ErrInsufficientFunds):
		return nil, nil, ErrBalanceInsufficient
	case err != nil:
		return nil, nil, fmt.Errorf("post refund %s: %w", r.ID, err)
	}
	p.AmountRefunded += x
	p.UpdatedAt = now
	if p.ReviewID != "" && p.AmountRefunded == p.Amount.Minor {
		if err := riskreview.CloseRefunded(ctx, tx, merchantID, payID, now); err != nil {
			return nil, nil, err
		}
	}
	if _, err := webhook.Record(ctx, tx, merchantID, webhook.PaymentRefunded, ToWire(p), now); err != nil {
		return nil, nil, err
	}
	if _, err := webhook.Record(ctx, tx, merchantID, webhook.RefundSucceeded, RefundToWire(r), now); err != nil {
		return nil, nil, err
	}
	return r, p, nil
}

// SendRefund asks the processor to return a committed refund to the card,
// capturing the payment first if the capture is still queued, and marks
// the refund sent. Every step is keyed, so running it twice (inline after
// commit and from package settle) asks the processor once.
func (s *Service) SendRefund(ctx context.Context, db *postgres.DB, r *Refund, authRef string) error {
	if authRef == "" {
		return nil // a wallet payment's refund completed in its transaction
	}
	if err := s.captureOne(ctx, db, r.PaymentID); err != nil {
		return err
	}
	ref, err := s.proc.Refund(ctx, "refund:"+r.ID, authRef, r.Amount)
	if err != nil {
		return fmt.Errorf("refund %s at the processor: %w", r.ID, err)
	}
	if _, err := db.Pool.Exec(ctx, markRefundSent, r.ID, ref, s.now().UTC()); err != nil {
		return fmt.Errorf("mark refund %s sent: %w", r.ID, err)
	}
	return nil
}

// Capture asks the processor to capture authorization ref of payment
// payID for amount, keyed by the payment so that capturing twice (inline
// and from package settle) captures once. The caller dequeues the
// payment's pending_captures row.
func (s *Service) Capture(ctx context.Context, payID, ref string, amount money.Amount) error {
	_, err := s.proc.Capture(ctx, "capture:"+payID, ref, amount)
	return err
}

// captureOne captures payID now if its capture is still queued.
func (s *Service) captureOne(ctx context.Context, db *postgres.DB, payID string) error {
	var (
		ref string
		amt money.Amount
		cur string
	)
	err := db.Pool.QueryRow(ctx, pendingCaptureOf, payID).Scan(&ref, &amt.Minor, &cur)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("read pending capture: %w", err)
	}
	amt.Currency = money.Currency(cur)
	if err := s.Capture(ctx, payID, ref, amt); err != nil {
		return fmt.Errorf("capture %s: %w", payID, err)
	}
	if _, err := db.Pool.Exec(ctx, deleteCaptured, []string{payID}); err != nil {
		return fmt.Errorf("dequeue capture: %w", err)
	}
	return nil
}
