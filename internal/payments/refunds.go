package payments

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
)

// Errors of finding refunds.
var (
	ErrRefundNotFound = &apperr.Error{Kind: apperr.NotFound, Code: "refund_not_found",
		Message: "No such refund."}
	ErrPaymentFilterInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "payment_invalid", Param: "payment",
		Message: "payment must be a payment id (pay_…)."}
)

// ParsePaymentFilter reads the payment filter of GET /v1/refunds: "" for
// every refund, or a payment id. It returns ErrPaymentFilterInvalid.
func ParsePaymentFilter(payID string) (string, error) {
	if payID != "" && !id.Valid("pay", payID) {
		return "", ErrPaymentFilterInvalid
	}
	return payID, nil
}

// GetRefund returns merchantID's refund refundID. It returns
// ErrRefundNotFound.
func GetRefund(ctx context.Context, db postgres.DBTX, merchantID, refundID string) (*checkout.Refund, error) {
	r, err := scanRefund(db.QueryRow(ctx, selectRefund, merchantID, refundID))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrRefundNotFound
	case err != nil:
		return nil, fmt.Errorf("read refund: %w", err)
	}
	return r, nil
}

// ListRefunds returns up to limit refunds of merchantID older than
// startingAfter (all when empty), of payment payID ("" for every
// payment), newest first, and whether more follow. Each is one index
// range (refunds_merchant_id_idx, refunds_merchant_payment_idx).
func ListRefunds(ctx context.Context, db postgres.DBTX, merchantID, payID string, limit int, startingAfter string) ([]*checkout.Refund, bool, error) {
	q := postgres.NewestOf(selectRefunds, "merchant_id", merchantID).Within("payment_id", payID).Before(startingAfter)
	out, more, err := postgres.PageNewest(ctx, db, limit, func(r pgx.CollectableRow) (*checkout.Refund, error) { return scanRefund(r) }, q)
	if err != nil {
		return nil, false, fmt.Errorf("list refunds: %w", err)
	}
	return out, more, nil
}

// PaymentRefunds is ListRefunds of one payment, for GET
// /v1/payments/{id}/refunds: it returns checkout.ErrNotFound when merchantID has
// no payment payID (asked only when the page is empty, so a payment with
// refunds costs one query).
func PaymentRefunds(ctx context.Context, db postgres.DBTX, merchantID, payID string, limit int, startingAfter string) ([]*checkout.Refund, bool, error) {
	if !id.Valid("pay", payID) {
		return nil, false, checkout.ErrNotFound
	}
	out, more, err := ListRefunds(ctx, db, merchantID, payID, limit, startingAfter)
	if err != nil || len(out) > 0 {
		return out, more, err
	}
	var exists bool
	if err := db.QueryRow(ctx, paymentExists, merchantID, payID).Scan(&exists); err != nil {
		return nil, false, fmt.Errorf("read payment: %w", err)
	}
	if !exists {
		return nil, false, checkout.ErrNotFound
	}
	return out, false, nil
}

func scanRefund(r pgx.Row) (*checkout.Refund, error) {
	var (
		rf  checkout.Refund
		cur string
	)
	if err := r.Scan(&rf.ID, &rf.MerchantID, &rf.PaymentID, &rf.Amount.Minor, &cur, &rf.Status, &rf.Reason,
		&rf.CreatedAt); err != nil {
		return nil, err
	}
	rf.Amount.Currency = money.Currency(cur)
	return &rf, nil
}

const refundColumns = `id, merchant_id, payment_id, amount, currency, status, coalesce(reason, ''), created_at`

const (
	selectRefund = `SELECT ` + refundColumns + ` FROM refunds WHERE merchant_id = $1 AND id = $2`

	selectRefunds = `SELECT ` + refundColumns + ` FROM refunds`

	paymentExists = `SELECT EXISTS (SELECT 1 FROM payments WHERE merchant_id = $1 AND id = $2)`
)
