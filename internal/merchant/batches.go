package merchant

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/postgres"
)

// InBatches calls fn with every merchant's id, batch ids at a time in id
// order, each call in a transaction of its own, so work over all
// merchants (the daily rollups) holds no lock for long. It stops at fn's
// first error.
func InBatches(ctx context.Context, db *postgres.DB, batch int, fn func(tx pgx.Tx, ids []string) error) error {
	after := ""
	for {
		var ids []string
		err := db.WithTx(ctx, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT id FROM merchants WHERE id > $1 ORDER BY id LIMIT $2`, after, batch)
			if err != nil {
				return err
			}
			if ids, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || len(ids) == 0 {
				return err
			}
			return fn(tx, ids)
		})
		if err != nil || len(ids) < batch {
			return err
		}
		after = ids[len(ids)-1]
	}
}
