package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/postgres"
)

// Limit is at most N e-mails per window of Per (fixed windows, aligned
// to multiples of Per since the Unix epoch). N of 0 means no limit.
type Limit struct {
	N   int
	Per time.Duration
}

// ShopperLimits caps the e-mails Paylink sends to shoppers on merchants'
// behalf. Anyone can sign up as a merchant and pay their own link with a
// test card, typing any address as the customer's, so without caps a
// receipt would be a way to mail anyone a Paylink-branded message.
type ShopperLimits struct {
	PerRecipient Limit // to one address, from all merchants together
	PerMerchant  Limit // from one merchant, to all addresses together
}

// heldBack is the last_error of a shopper e-mail over a limit.
const heldBack = "not sent: shopper e-mail limit reached"

// QueueShopper is QueueOnce for an e-mail to a shopper sent on behalf of
// merchantID (or to the address merchantID chose for its notifications),
// within lim: each first-time e-mail counts against the
// recipient's and the merchant's current windows, and one over either
// limit is stored as failed with the reason instead of being sent. It
// reports whether the e-mail was queued for sending. Every e-mail to a
// shopper (receipts, links sent by e-mail, reminders) must go through it.
func QueueShopper(ctx context.Context, tx pgx.Tx, key, merchantID string, e Email, lim ShopperLimits, now time.Time) (bool, error) {
	queued, err := QueueOnce(ctx, tx, key, e, now)
	if err != nil || !queued {
		return false, err
	}
	within := true
	for _, q := range []struct {
		scope string
		lim   Limit
	}{{"merchant:" + merchantID, lim.PerMerchant}, {"to:" + strings.ToLower(e.To), lim.PerRecipient}} {
		if q.lim.N <= 0 || q.lim.Per <= 0 {
			continue
		}
		var n int
		if err := tx.QueryRow(ctx, countQuota, q.scope, now.Truncate(q.lim.Per), now).Scan(&n); err != nil {
			return false, fmt.Errorf("count shopper e-mails: %w", err)
		}
		within = within && n <= q.lim.N
	}
	if within {
		return true, nil
	}
	if _, err := tx.Exec(ctx, holdBack, key, now, heldBack); err != nil {
		return false, fmt.Errorf("hold back e-mail %s: %w", key, err)
	}
	return false, nil
}

// DeleteQuotasBefore removes shopper e-mail counts of windows that started
// before cutoff, for the periodic clean-up; pass a cutoff at least one
// window back.
func DeleteQuotasBefore(ctx context.Context, db postgres.DBTX, cutoff time.Time) (int64, error) {
	tag, err := db.Exec(ctx, deleteQuotas, cutoff)
	if err != nil {
		return 0, fmt.Errorf("delete shopper e-mail counts: %w", err)
	}
	return tag.RowsAffected(), nil
}
