// Package paymentstats sums a merchant's payments per UTC day and
// currency for the dashboard's home: whole days from the rollups the
// worker keeps in payment_days, the rest from the payments themselves.
package paymentstats

import (
	"context"
	"errors"
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
// UTC day and currency, oldest first. The whole days payment_days covers
// are read from it; the others from the payments, by the id range of
// their time (an id encodes its creation time), so it never scans other
// merchants' payments or older ones.
func Days(ctx context.Context, db postgres.DBTX, merchantID string, since time.Time) ([]Day, error) {
	since = since.UTC()
	// Rolled up: the whole days from since's (or the next) on, within the
	// cover; raw: before and after them.
	from := dayOf(since)
	if from.Before(since) {
		from = from.AddDate(0, 0, 1)
	}
	to := from // the end of the rolled-up days: none
	first, last, ok, err := Cover(ctx, db)
	if err != nil {
		return nil, err
	}
	if ok && !last.Before(from) {
		from = maxTime(from, first)
		to = maxTime(from, last.AddDate(0, 0, 1))
	}
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	rows, err := db.Query(ctx, selectDays, merchantID, from, to,
		id.Floor("pay", since), since, idBefore(from), from, id.Floor("pay", to), to, far)
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

// selectDays reads the rollups of the days from $2 up to $3 and the
// payments made from $5 (ids from $4) up to $7 (ids below $6) and from $9
// (ids from $8) on; $10 is a time after everything.
const selectDays = `
SELECT day::timestamp AT TIME ZONE 'UTC', currency, count, succeeded, volume
FROM payment_days WHERE merchant_id = $1 AND day >= $2::date AND day < $3::date
UNION ALL
SELECT date_trunc('day', p.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day, p.currency,
       count(*), count(*) FILTER (WHERE p.status = 'succeeded'),
       coalesce(sum(p.amount) FILTER (WHERE p.status = 'succeeded'), 0)
FROM payments p
WHERE p.merchant_id = $1 AND ((p.id >= $4 AND p.id < $6 AND p.created_at >= $5 AND p.created_at < $7)
   OR (p.id >= $8 AND p.created_at >= $9 AND p.created_at < $10))
GROUP BY 1, 2
ORDER BY 1, 2`

// Cover is the first and last day payment_days holds every merchant's
// totals of; ok is false before the first rollup.
func Cover(ctx context.Context, db postgres.DBTX) (first, last time.Time, ok bool, err error) {
	err = db.QueryRow(ctx, `SELECT first::timestamp AT TIME ZONE 'UTC', last::timestamp AT TIME ZONE 'UTC'
		FROM payment_days_cover`).Scan(&first, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, time.Time{}, false, fmt.Errorf("payment rollups' cover: %w", err)
	}
	return first.UTC(), last.UTC(), true, nil
}

// idBefore is an id bound that every payment made before t is under: a
// payment id carries its creation millisecond.
func idBefore(t time.Time) string { return id.Floor("pay", t.Add(time.Millisecond)) }

// dayOf is the UTC day t falls in, at its midnight.
func dayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
