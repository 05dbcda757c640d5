package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/postgres"
)

// PurgeFinished deletes up to batch deliveries made before cutoff that are
// finished (succeeded, failed or canceled), with their attempts, in one
// short statement, and returns how many deliveries it deleted. Pending
// deliveries are kept whatever their age, and so are events. Rows another
// transaction holds are skipped, so the purge never waits on them; call it
// until it returns less than batch.
func PurgeFinished(ctx context.Context, db postgres.DBTX, cutoff time.Time, batch int) (int64, error) {
	var n int64
	if err := db.QueryRow(ctx, purgeFinished, id.Floor("dlv", cutoff), batch).Scan(&n); err != nil {
		return 0, fmt.Errorf("purge finished webhook deliveries: %w", err)
	}
	return n, nil
}
