package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Enqueuer hands deliveries to the task queue. EnqueueDelivery must be
// idempotent per delivery id (the task id is the delivery id): it reports
// false, nil when the task is already queued or running.
type Enqueuer interface {
	EnqueueDelivery(ctx context.Context, merchantID, deliveryID string, at time.Time) (bool, error)
}

// Relay hands up to limit deliveries not yet given to the task queue to
// q, each to run at its next_attempt_at, and marks them handed over. Rows
// are claimed with SKIP LOCKED so several workers relay side by side. A
// crash between the hand-over and the commit hands them over again, which
// q ignores. It returns how many were handed over.
func (s *Service) Relay(ctx context.Context, q Enqueuer, limit int) (int, error) {
	tx, err := s.db.Pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("relay deliveries: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after commit
	rows, err := tx.Query(ctx, selectUnrelayed, limit, s.cfg.Now())
	if err != nil {
		return 0, fmt.Errorf("relay deliveries: %w", err)
	}
	todo, err := pgx.CollectRows(rows, scanDue)
	if err != nil {
		return 0, fmt.Errorf("relay deliveries: %w", err)
	}
	done := make([]string, 0, len(todo))
	var enqErr error
	for _, d := range todo {
		if _, enqErr = q.EnqueueDelivery(ctx, d.merchantID, d.id, d.at); enqErr != nil {
			break
		}
		done = append(done, d.id)
	}
	if len(done) == 0 {
		return 0, enqErr
	}
	if _, err := tx.Exec(ctx, markRelayed, done, s.cfg.Now()); err != nil {
		return 0, fmt.Errorf("mark deliveries relayed: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("mark deliveries relayed: %w", err)
	}
	return len(done), enqErr
}

// due is a delivery to hand to the task queue.
type due struct {
	id, merchantID string
	at             time.Time
}

func scanDue(r pgx.CollectableRow) (due, error) {
	var d due
	err := r.Scan(&d.id, &d.merchantID, &d.at)
	return d, err
}

// sweepBatch is how many overdue deliveries Sweep reads per query.
const sweepBatch = 500

// Sweep finds deliveries that are pending in PostgreSQL, were handed to
// the task queue, and are overdue by more than grace without being leased
// to a worker, and hands them over again: q ignores those still queued, so
// only tasks lost from Redis (flushed, failed over) come back. It returns
// how many were queued again.
func (s *Service) Sweep(ctx context.Context, q Enqueuer, grace time.Duration) (int, error) {
	now := s.cfg.Now()
	var (
		requeued int
		afterAt  time.Time
		afterID  string
	)
	for {
		rows, err := s.db.Pool.Query(ctx, selectOverdue, now.Add(-grace), now, afterAt, afterID, sweepBatch)
		if err != nil {
			return requeued, fmt.Errorf("sweep deliveries: %w", err)
		}
		batch, err := pgx.CollectRows(rows, scanDue)
		if err != nil {
			return requeued, fmt.Errorf("sweep deliveries: %w", err)
		}
		for _, d := range batch {
			again, err := q.EnqueueDelivery(ctx, d.merchantID, d.id, d.at)
			if err != nil {
				return requeued, err
			}
			if again {
				requeued++
			}
			afterAt, afterID = d.at, d.id
		}
		if len(batch) < sweepBatch {
			return requeued, nil
		}
	}
}
