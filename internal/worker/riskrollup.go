package worker

import (
	"context"

	"github.com/hibiken/asynq"

	"github.com/paylink/paylink/internal/riskstats"
)

// riskRollupBatch is how many merchants one rollup transaction covers.
const riskRollupBatch = 500

// rollupRisk rolls up the risk screening of every closed day not yet
// rolled up (riskstats.Rollup); running it twice changes nothing.
func (w *Worker) rollupRisk(ctx context.Context, _ *asynq.Task) error {
	return riskstats.Rollup(ctx, w.d.DB, w.d.Now(), riskRollupBatch)
}
