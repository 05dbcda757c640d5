package checkout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/webhook"
)

// MethodWallet is the payment method of a link paid from a Paylink wallet.
const MethodWallet = "wallet"

// RecordWallet pays link l from the wallet of userID in tx, all in one
// transaction: the payment (method wallet, succeeded at once: no card, no
// processor, nothing to capture), the ledger transaction {wallet −x,
// merchant +x} with the user's history entry and notification
// (wallet.Pay), the completion of a single-use link, and the events. It
// returns wallet.ErrInsufficientFunds, ErrCompleted, ErrDeactivated or
// ErrExpired from package links, or merchant.ErrCurrencyWithdrawn or
// ErrMethodNotAccepted when the merchant does not accept the payment
// (checked first against l.Accepts, then by the insert against the
// settings as they are now).
func (s *Service) RecordWallet(ctx context.Context, tx pgx.Tx, l *links.Link, c Customer, userID string) (*Payment, error) {
	return s.RecordWalletScreened(ctx, tx, l, c, userID, nil)
}

// RecordWalletScreened is RecordWallet with screening's decision d
// (ScreenWallet; nil when not screened), stored with the payment. A
// blocked payment is recorded failed (payment_blocked): no money moves
// and the link stays open. A review decision opens a review; a challenge
// is one too, as a wallet payment has no issuer to challenge it.
func (s *Service) RecordWalletScreened(ctx context.Context, tx pgx.Tx, l *links.Link, c Customer, userID string, d *risk.Decision) (*Payment, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	if err := l.Payable(now); err != nil {
		return nil, err
	}
	if err := l.Accepts.CheckPayment(l.Amount.Currency, merchant.MethodWallet, ""); err != nil {
		return nil, err
	}
	p := &Payment{
		ID: id.NewAt("pay", now), MerchantID: l.MerchantID, LinkID: l.ID, SingleUse: l.SingleUse,
		Amount: l.Amount, Status: Succeeded, Customer: c, Method: MethodWallet,
		Metadata: l.Metadata, Realm: l.Realm, Risk: d, CreatedAt: now, UpdatedAt: now,
	}
	if d != nil && d.Outcome == risk.Challenge {
		d.Outcome = risk.Review
	}
	if d != nil && d.Outcome == risk.Block {
		return p, s.recordBlockedWallet(ctx, tx, p, userID, now)
	}
	if l.SingleUse {
		if err := links.Complete(ctx, tx, l.MerchantID, l.ID, now); err != nil {
			s.links.Forget(l.ID)
			return nil, err
		}
	}
	tag, err := tx.Exec(ctx, insertWalletPayment, p.ID, p.MerchantID, p.LinkID, p.SingleUse, p.Amount.Minor,
		string(p.Amount.Currency), p.Customer.Email, p.Customer.Name, userID, p.CreatedAt, l.SingleUse)
	switch {
	case postgres.IsUniqueViolation(err, "payments_single_use_once"):
		return nil, links.ErrCompleted
	case err != nil:
		return nil, fmt.Errorf("insert wallet payment: %w", err)
	case tag.RowsAffected() == 0:
		s.links.Forget(l.ID)
		if err := links.CheckPayable(ctx, tx, l.MerchantID, l.ID, now); err != nil {
			return nil, err
		}
		return nil, refusal(ctx, tx, p)
	}
	if _, err := wallet.Pay(ctx, tx, userID, wallet.Merchant{ID: l.MerchantID, Name: l.MerchantName}, l.Amount, p.ID, now); err != nil {
		return nil, err
	}
	if err := saveRisk(ctx, tx, p, now); err != nil {
		return nil, err
	}
	if _, err := webhook.Record(ctx, tx, p.MerchantID, webhook.PaymentSucceeded, ToWire(p), now); err != nil {
		return nil, err
	}
	if l.SingleUse {
		done := *l
		done.Status, done.CompletedAt = links.Completed, &now
		if _, err := webhook.Record(ctx, tx, p.MerchantID, webhook.PaymentLinkCompleted, s.links.ToWire(&done), now); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// recordBlockedWallet records wallet payment p, blocked by screening, as
// failed with its decision and payment.failed; nothing is paid.
func (s *Service) recordBlockedWallet(ctx context.Context, tx pgx.Tx, p *Payment, userID string, now time.Time) error {
	p.Status, p.FailureCode = Failed, processor.CodePaymentBlocked
	if _, err := tx.Exec(ctx, insertBlockedWalletPayment, p.ID, p.MerchantID, p.LinkID, p.SingleUse, p.Amount.Minor,
		string(p.Amount.Currency), p.Customer.Email, p.Customer.Name, userID, now, p.FailureCode); err != nil {
		return fmt.Errorf("insert blocked wallet payment: %w", err)
	}
	if err := saveRisk(ctx, tx, p, now); err != nil {
		return err
	}
	_, err := webhook.Record(ctx, tx, p.MerchantID, webhook.PaymentFailed, ToWire(p), now)
	return err
}

// refundWallet returns refund r of wallet payment p to the wallet that
// paid, in tx: the ledger transaction {merchant −x, wallet +x} with the
// user's history entry and notification, and the refund marked sent, as
// there is no processor to ask. It returns ErrBalanceInsufficient.
func refundWallet(ctx context.Context, tx pgx.Tx, p *Payment, r *Refund, now time.Time) error {
	_, err := wallet.Refund(ctx, tx, p.ID, r.ID, r.Amount, now)
	switch {
	case errors.Is(err, wallet.ErrInsufficientFunds):
		return ErrBalanceInsufficient
	case err != nil:
		return fmt.Errorf("refund wallet payment %s: %w", p.ID, err)
	}
	if _, err := tx.Exec(ctx, markRefundSent, r.ID, nil, now); err != nil {
		return fmt.Errorf("mark refund %s sent: %w", r.ID, err)
	}
	return nil
}
