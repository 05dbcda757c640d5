package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/notify"
)

// selectRefundedPayment reads the payment.refunded event recorded in the
// same transaction (same xmin) as refund.succeeded event $3: the payment as
// the refund left it.
const selectRefundedPayment = `
SELECT data FROM events
WHERE merchant_id = $1 AND type = 'payment.refunded' AND data->>'id' = $2
  AND xmin = (SELECT xmin FROM events WHERE id = $3)
LIMIT 1`

// paymentEmails queues the e-mails a payment event brings, each at most
// once per status change (a dedupe key per payment, or per refund), the
// shopper's within Config.ShopperEmails:
//   - payment.succeeded: a receipt to the shopper and, when the merchant
//     asked for them, an e-mail to the merchant;
//   - payment.failed: why, to the shopper, with a link to try again while
//     the link takes payments;
//   - refund.succeeded: the amount and what is left, to the shopper.
//
// An event whose data is not what its type says gets none: it cannot
// become readable later, and it must not hold back the events behind it.
func (s *Service) paymentEmails(ctx context.Context, tx pgx.Tx, ev *Event, m *merchant.Merchant, now time.Time) error {
	if ev.Type == RefundSucceeded {
		return s.refundEmail(ctx, tx, ev, m, now)
	}
	p, err := notify.ParsePayment(ev.Data)
	if err != nil {
		return nil
	}
	if ev.Type == PaymentFailed {
		retry := ""
		if s.cfg.RetryURL != nil && p.PaymentLink != "" {
			retry = s.cfg.RetryURL(ctx, tx, m.ID, p.PaymentLink)
		}
		if e, ok := notify.Failed(p, m.Name, retry); ok {
			_, err := notify.QueueShopper(ctx, tx, "payment_failed:"+p.ID, m.ID, e, s.cfg.ShopperEmails, now)
			return err
		}
		return nil
	}
	if receipt, ok := notify.Receipt(p, m.Name); ok {
		if _, err := notify.QueueShopper(ctx, tx, "receipt:"+p.ID, m.ID, receipt, s.cfg.ShopperEmails, now); err != nil {
			return err
		}
	}
	if m.PaymentEmails {
		if _, err := notify.QueueOnce(ctx, tx, "merchant_payment:"+p.ID, notify.MerchantPayment(p, m.Name, m.Email), now); err != nil {
			return err
		}
	}
	return nil
}

// refundEmail queues the shopper's e-mail of a refund.succeeded event.
func (s *Service) refundEmail(ctx context.Context, tx pgx.Tx, ev *Event, m *merchant.Merchant, now time.Time) error {
	var r struct {
		ID       string `json:"id"`
		Payment  string `json:"payment"`
		Amount   int64  `json:"amount"`
		Currency string `json:"currency"`
	}
	if json.Unmarshal(ev.Data, &r) != nil || r.ID == "" || r.Payment == "" {
		return nil
	}
	var data []byte
	err := tx.QueryRow(ctx, selectRefundedPayment, ev.MerchantID, r.Payment, ev.ID).Scan(&data)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("read refunded payment: %w", err)
	}
	p, err := notify.ParsePayment(data)
	if err != nil {
		return nil
	}
	e, ok := notify.Refunded(p, money.Amount{Minor: r.Amount, Currency: p.Amount.Currency}, m.Name)
	if !ok {
		return nil
	}
	_, err = notify.QueueShopper(ctx, tx, "refund:"+r.ID, m.ID, e, s.cfg.ShopperEmails, now)
	return err
}
