package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/postgres"
)

// Backlog describes the webhook outbox for operators.
type Backlog struct {
	Pending        int        // deliveries not finished
	Unrelayed      int        // of which not yet handed to the task queue
	Overdue        int        // of which due more than a minute ago
	OldestPending  *time.Time // creation of the oldest pending delivery
	EventsToNotify int        // events whose e-mails are not derived yet
}

// ReadBacklog counts what the webhook outbox still has to do.
func ReadBacklog(ctx context.Context, db postgres.DBTX, now time.Time) (Backlog, error) {
	var b Backlog
	err := db.QueryRow(ctx, backlog, now.Add(-time.Minute)).Scan(&b.Pending, &b.Unrelayed, &b.Overdue, &b.OldestPending, &b.EventsToNotify)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return b, fmt.Errorf("read webhook backlog: %w", err)
	}
	return b, nil
}
