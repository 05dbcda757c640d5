// Package webhook is the merchant-facing event outbox: events are recorded
// in the same database transaction as the change they report, then
// delivered to the merchant's endpoints.
package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
)

// Event types.
const (
	PaymentSucceeded     = "payment.succeeded"
	PaymentFailed        = "payment.failed"
	PaymentRefunded      = "payment.refunded"
	PaymentLinkCompleted = "payment_link.completed"
	PaymentLinkExpired   = "payment_link.expired"
)

// Record writes an event of eventType for merchantID in tx; data is the
// object the event is about, as the API answers it (a wire type). It
// returns the event id. Delivery happens after commit.
func Record(ctx context.Context, tx pgx.Tx, merchantID, eventType string, data any, now time.Time) (string, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return "", fmt.Errorf("encode %s event: %w", eventType, err)
	}
	evtID := id.NewAt("evt", now)
	if _, err := tx.Exec(ctx, insertEvent, evtID, merchantID, eventType, b, now); err != nil {
		return "", fmt.Errorf("record %s event: %w", eventType, err)
	}
	return evtID, nil
}
