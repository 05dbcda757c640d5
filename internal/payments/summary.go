package payments

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
)

// Day is one UTC day of a merchant's payments in one currency: how many
// were made, how many succeeded, and the amount that succeeded.
type Day struct {
	Date      time.Time // midnight UTC
	Currency  money.Currency
	Count     int64
	Succeeded int64
	Volume    int64 // minor units of the succeeded payments
}

// Days returns merchantID's payments made at or after since, summed per
// UTC day and currency, oldest first. It reads the id range of since
// (an id encodes its creation time), so it never scans other merchants'
// payments or older ones.
func Days(ctx context.Context, db postgres.DBTX, merchantID string, since time.Time) ([]Day, error) {
	rows, err := db.Query(ctx, selectDays, merchantID, id.Floor("pay", since), since)
	if err != nil {
		return nil, fmt.Errorf("sum payments by day: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Day, error) {
		var d Day
		var cur string
		err := r.Scan(&d.Date, &cur, &d.Count, &d.Succeeded, &d.Volume)
		d.Currency, d.Date = money.Currency(cur), d.Date.UTC()
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("sum payments by day: %w", err)
	}
	return out, nil
}

const selectDays = `
SELECT date_trunc('day', p.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day, p.currency,
       count(*), count(*) FILTER (WHERE p.status = 'succeeded'),
       coalesce(sum(p.amount) FILTER (WHERE p.status = 'succeeded'), 0)
FROM payments p
WHERE p.merchant_id = $1 AND p.id >= $2 AND p.created_at >= $3
GROUP BY 1, 2 ORDER BY 1, 2`
