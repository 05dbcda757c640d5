// Package riskreview keeps the reviews that risk decisions open (API.md
// Part 3, "Reviews"): a payment charged as usual but held for its merchant
// to look at, until approved or refunded in full.
package riskreview

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/webhook"
	"github.com/paylink/paylink/internal/wire"
)

// Errors of reviews.
var (
	ErrNotFound      = &apperr.Error{Kind: apperr.NotFound, Code: "resource_missing", Message: "No such review."}
	ErrClosed        = &apperr.Error{Kind: apperr.Invalid, Code: "review_closed", Message: "This review is already closed."}
	ErrStatusInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "parameter_invalid", Param: "status",
		Message: "status must be open or closed."}
)

// Item is a review: a payment held for its merchant to look at: charged as
// usual, open until approved or refunded in full.
type Item struct {
	ID, MerchantID, PaymentID, Status, Reason, ClosedReason string
	CreatedAt                                               time.Time
	ClosedAt                                                *time.Time
}

// ToWire returns r as the API shows it.
func (r *Item) ToWire() wire.Review {
	return wire.Review{ID: r.ID, Payment: r.PaymentID, Status: r.Status, Reason: r.Reason,
		ClosedReason: closedReason(r.ClosedReason), CreatedAt: wire.Time(r.CreatedAt), ClosedAt: wire.TimePtr(r.ClosedAt)}
}

const (
	reviewColumns = `id, merchant_id, payment_id, status, reason, coalesce(closed_reason, ''), created_at, closed_at`
	insertReview  = `
INSERT INTO reviews (id, merchant_id, payment_id, status, reason, created_at) VALUES ($1, $2, $3, 'open', $4, $5)`
	selectReview = `SELECT ` + reviewColumns + ` FROM reviews WHERE merchant_id = $1 AND id = $2`
	closeReview  = `
UPDATE reviews SET status = 'closed', closed_reason = $3, closed_at = $4
WHERE merchant_id = $1 AND id = $2 AND status = 'open'
RETURNING ` + reviewColumns
	closeReviewOfPayment = `
UPDATE reviews SET status = 'closed', closed_reason = 'refunded', closed_at = $3
WHERE merchant_id = $1 AND payment_id = $2 AND status = 'open'
RETURNING ` + reviewColumns
	selectReviews = `SELECT ` + reviewColumns + ` FROM reviews`
)

func scanReview(r pgx.Row) (*Item, error) {
	var x Item
	err := r.Scan(&x.ID, &x.MerchantID, &x.PaymentID, &x.Status, &x.Reason, &x.ClosedReason, &x.CreatedAt, &x.ClosedAt)
	return &x, err
}

// Open opens a review of payment payID through w (the payment's
// transaction) with review.opened, and returns its id.
func Open(ctx context.Context, w postgres.Execer, merchantID, payID, reason string, now time.Time) (string, error) {
	r := &Item{ID: id.NewAt("rev", now), MerchantID: merchantID, PaymentID: payID, Status: "open",
		Reason: reason, CreatedAt: now}
	if _, err := w.Exec(ctx, insertReview, r.ID, merchantID, payID, reason, now); err != nil {
		return "", fmt.Errorf("open review: %w", err)
	}
	if _, err := webhook.Record(ctx, w, merchantID, webhook.ReviewOpened, r.ToWire(), now); err != nil {
		return "", err
	}
	return r.ID, nil
}

// Get returns one review or ErrNotFound.
func Get(ctx context.Context, db postgres.DBTX, merchantID, reviewID string) (*Item, error) {
	r, err := scanReview(db.QueryRow(ctx, selectReview, merchantID, reviewID))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("read review: %w", err)
	}
	return r, nil
}

// List returns up to limit reviews with status ("" for any),
// newest first, older than startingAfter when set, and whether more
// follow.
func List(ctx context.Context, db postgres.DBTX, merchantID, status, startingAfter string, limit int) ([]*Item, bool, error) {
	if status != "" && status != "open" && status != "closed" {
		return nil, false, ErrStatusInvalid
	}
	q := postgres.NewestOf(selectReviews, "merchant_id", merchantID).Within("status", status).Before(startingAfter)
	out, more, err := postgres.PageNewest(ctx, db, limit, func(r pgx.CollectableRow) (*Item, error) { return scanReview(r) }, q)
	if err != nil {
		return nil, false, fmt.Errorf("list reviews: %w", err)
	}
	return out, more, nil
}

// Approve closes an open review as approved in tx, with review.closed.
// It returns ErrNotFound or ErrClosed.
func Approve(ctx context.Context, tx pgx.Tx, merchantID, reviewID string, now time.Time) (*Item, error) {
	r, err := scanReview(tx.QueryRow(ctx, closeReview, merchantID, reviewID, "approved", now))
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := Get(ctx, tx, merchantID, reviewID); err != nil {
			return nil, err
		}
		return nil, ErrClosed
	}
	if err != nil {
		return nil, fmt.Errorf("approve review: %w", err)
	}
	return r, closed(ctx, tx, r, now)
}

// CloseRefunded closes payment payID's open review, if it has one, as
// refunded in tx (its refunds now add up to its whole amount), with
// review.closed.
func CloseRefunded(ctx context.Context, tx pgx.Tx, merchantID, payID string, now time.Time) error {
	r, err := scanReview(tx.QueryRow(ctx, closeReviewOfPayment, merchantID, payID, now))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("close review: %w", err)
	}
	return closed(ctx, tx, r, now)
}

// closedReason is reason as the API shows it: null while open.
func closedReason(reason string) *string {
	if reason == "" {
		return nil
	}
	return &reason
}

func closed(ctx context.Context, tx pgx.Tx, r *Item, now time.Time) error {
	_, err := webhook.Record(ctx, tx, r.MerchantID, webhook.ReviewClosed, r.ToWire(), now)
	return err
}
