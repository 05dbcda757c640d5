// Package eventmail derives e-mails from recorded events, after commit:
// the shopper's receipt, failure and refund e-mails, and the merchant's
// e-mails for the event types in its notify_on (payments and reviews).
// Each is queued through package notify with a dedupe key naming the
// change, so processing a batch twice sends nothing more.
package eventmail

import (
	"context"
	"net/url"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/webhook"
)

// Config is what a Service is built from.
type Config struct {
	Merchants *merchant.Service
	Now       func() time.Time
	// ShopperEmails caps the receipts derived from payment events, per
	// recipient and per merchant.
	ShopperEmails notify.ShopperLimits
	// RetryURL returns where the shopper of a failed payment on link
	// linkID can try again, or "" when the link no longer takes payments;
	// nil offers no link.
	RetryURL func(ctx context.Context, db postgres.DBTX, merchantID, linkID string) string
	// Describe returns what link linkID sells (its description), which
	// the shopper's receipt and failure e-mails name; nil names nothing.
	Describe func(ctx context.Context, db postgres.DBTX, merchantID, linkID string) string
	// ReceiptURL returns the receipt page of payment payID on link
	// linkID, which the shopper's receipt links; nil links none.
	ReceiptURL func(ctx context.Context, db postgres.DBTX, merchantID, linkID, payID string) string
	// BaseURL is the platform's public URL, under which the merchant
	// dashboard's pages are linked from review e-mails; nil links none.
	BaseURL *url.URL
}

// Service derives the e-mails of events.
type Service struct {
	db  *postgres.DB
	cfg Config
}

// NewService returns a Service on db.
func NewService(db *postgres.DB, cfg Config) *Service {
	return &Service{db: db, cfg: cfg}
}

// ProcessEvents derives the notifications of up to limit recorded events
// that have not had theirs yet, in one transaction (see emails).
// Each message is queued once per payment whatever happens to the event
// later (redeliveries send no e-mail). It returns how many events were
// processed. A batch reads its events and their merchants in two round
// trips and queues all its e-mails in two or three more
// (notify.QueueShoppers), whatever their number; marking the events is
// sent with the commit.
func (s *Service) ProcessEvents(ctx context.Context, limit int) (int, error) {
	var n int
	err := s.db.WithTxLater(ctx, func(tx pgx.Tx, later *postgres.Writes) error {
		n = 0
		evs, err := webhook.ClaimUnnotified(ctx, tx, limit)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		now := s.cfg.Now()
		ids := make([]string, len(evs))
		var merchantIDs []string
		for i, ev := range evs {
			ids[i] = ev.ID
			if webhook.Notifies(ev.Type) && !slices.Contains(merchantIDs, ev.MerchantID) {
				merchantIDs = append(merchantIDs, ev.MerchantID)
			}
		}
		if len(merchantIDs) > 0 {
			merchants, err := s.cfg.Merchants.GetMany(ctx, tx, merchantIDs)
			if err != nil {
				return err
			}
			var b batch
			for _, ev := range evs {
				if m := merchants[ev.MerchantID]; webhook.Notifies(ev.Type) && m != nil {
					if err := s.emails(ctx, tx, &b, ev, m); err != nil {
						return err
					}
				}
			}
			if _, err := notify.QueueShoppers(ctx, tx, b, now); err != nil {
				return err
			}
		}
		if err := webhook.MarkNotified(ctx, later, ids, now); err != nil {
			return err
		}
		n = len(evs)
		return nil
	})
	return n, err
}
