package worker

import (
	"context"
	"time"

	"github.com/hibiken/asynq"

	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/webhook/delivery"
)

// retentionBatch is how many rows one retention statement deletes: each
// batch is a transaction of its own, a few milliseconds long, so the
// clean-up never holds locks for long, whatever the backlog.
const retentionBatch = 1000

// purge is one kind of row that is deleted once old enough.
type purge struct {
	what string
	keep time.Duration // 0: forever
	step func(ctx context.Context, db postgres.DBTX, cutoff time.Time, batch int) (int64, error)
}

// purges are what the retention task deletes: finished webhook
// deliveries with their attempts, and sent e-mails. Payments, the ledger,
// events and pending work are never deleted; Idempotency-Key records have
// a task of their own (cleanIdempotency).
func (w *Worker) purges() []purge {
	return []purge{
		{"webhook deliveries", w.d.WebhookRetention, delivery.PurgeFinished},
		{"e-mails", w.d.EmailRetention, notify.PurgeDone},
	}
}

// purgeOld deletes what is past its retention, batch after batch, until
// a batch comes back short or ctx ends.
func (w *Worker) purgeOld(ctx context.Context, _ *asynq.Task) error {
	now := w.d.Now()
	for _, p := range w.purges() {
		if p.keep <= 0 {
			continue
		}
		var total int64
		for ctx.Err() == nil {
			n, err := p.step(ctx, w.d.DB.Pool, now.Add(-p.keep), retentionBatch)
			total += n
			if err != nil {
				return err
			}
			if n < retentionBatch {
				break
			}
		}
		if total > 0 {
			w.d.Log.InfoContext(ctx, "retention: old rows deleted", "what", p.what, "count", total)
		}
	}
	return ctx.Err()
}
