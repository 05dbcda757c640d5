package worker

import (
	"context"

	"github.com/hibiken/asynq"

	"github.com/paylink/paylink/internal/paymentstats"
	"github.com/paylink/paylink/internal/riskstats"
)

// rollupBatch is how many merchants one rollup transaction covers.
const rollupBatch = 500

// rollupRisk rolls up the risk screening of every closed day not yet
// rolled up (riskstats.Rollup); running it twice changes nothing.
func (w *Worker) rollupRisk(ctx context.Context, _ *asynq.Task) error {
	return riskstats.Rollup(ctx, w.d.DB, w.d.Now(), rollupBatch)
}

// rollupPayments rolls up the payment totals of every closed day whose
// payments are all final (paymentstats.Rollup); running it twice changes
// nothing.
func (w *Worker) rollupPayments(ctx context.Context, _ *asynq.Task) error {
	return paymentstats.Rollup(ctx, w.d.DB, w.d.Now(), rollupBatch)
}
