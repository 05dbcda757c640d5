package risk

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/postgres"
)

// DayOutcomes is one UTC day of a merchant's screening: how many
// attempts ended in each outcome.
type DayOutcomes struct {
	Date                            time.Time // midnight UTC
	Allow, Review, Challenge, Block int64
}

// selectDaily counts the merchant's decisions since $2 per UTC day and
// outcome, on payment_risk's (merchant_id, created_at) index.
const selectDaily = `
SELECT date_trunc('day', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day,
       count(*) FILTER (WHERE outcome = 'allow'), count(*) FILTER (WHERE outcome = 'review'),
       count(*) FILTER (WHERE outcome = 'challenge'), count(*) FILTER (WHERE outcome = 'block')
FROM payment_risk
WHERE merchant_id = $1 AND created_at >= $2
GROUP BY 1 ORDER BY 1`

// Daily returns merchantID's screening outcomes per UTC day from since on,
// oldest first; days without a decision are left out.
func Daily(ctx context.Context, db postgres.DBTX, merchantID string, since time.Time) ([]DayOutcomes, error) {
	rows, err := db.Query(ctx, selectDaily, merchantID, since)
	if err != nil {
		return nil, fmt.Errorf("risk outcomes by day: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DayOutcomes, error) {
		var d DayOutcomes
		err := r.Scan(&d.Date, &d.Allow, &d.Review, &d.Challenge, &d.Block)
		d.Date = d.Date.UTC()
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("risk outcomes by day: %w", err)
	}
	return out, nil
}
