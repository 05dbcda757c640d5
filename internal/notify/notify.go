// Package notify sends e-mail to shoppers, merchants and wallet users
// through an outbox: a message is queued in the same transaction as the
// change it reports and sent by the worker after commit.
package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
)

// Email is one plain-text message.
type Email struct {
	To      string
	Subject string
	Text    string
}

// Queue stores e in tx for sending after commit. It never blocks on SMTP.
func Queue(ctx context.Context, tx pgx.Tx, e Email, now time.Time) error {
	if _, err := tx.Exec(ctx, insertEmail, id.NewAt("eml", now), e.To, e.Subject, e.Text, now); err != nil {
		return fmt.Errorf("queue e-mail: %w", err)
	}
	return nil
}
