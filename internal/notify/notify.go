// Package notify sends e-mail to shoppers, merchants and wallet users
// through an outbox: a message is queued in the same transaction as the
// change it reports, relayed to the task queue after commit, and sent over
// SMTP by the worker, with retries. Receipts and merchant payment e-mails
// are composed here from payment events.
package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
)

// Email is one message: a plain-text part and, when HTML is set, an HTML
// alternative.
type Email struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Queue stores e in tx for sending after commit. It never blocks on SMTP.
func Queue(ctx context.Context, tx pgx.Tx, e Email, now time.Time) error {
	if _, err := tx.Exec(ctx, insertEmail, id.NewAt("eml", now), e.To, e.Subject, e.Text, now, orNil(e.HTML)); err != nil {
		return fmt.Errorf("queue e-mail: %w", err)
	}
	return nil
}

// QueueOnce is Queue for a message that must go out at most once: a
// second call with the same key queues nothing and reports false.
func QueueOnce(ctx context.Context, tx pgx.Tx, key string, e Email, now time.Time) (bool, error) {
	tag, err := tx.Exec(ctx, insertEmailOnce, id.NewAt("eml", now), e.To, e.Subject, e.Text, now, key, orNil(e.HTML))
	if err != nil {
		return false, fmt.Errorf("queue e-mail %s: %w", key, err)
	}
	return tag.RowsAffected() == 1, nil
}

// orNil is nil for "", so a text-only e-mail stores no HTML.
func orNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
