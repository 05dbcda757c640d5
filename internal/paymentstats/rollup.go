package paymentstats

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/postgres"
)

// Grace is how long after a UTC day ends it may be rolled up: a payment
// is dated when it is made and commits a little later.
const Grace = time.Hour

// Backfill is how far back the first rollup starts: the dashboard reads
// the last 30 days, so older days are read from the payments, if ever.
const Backfill = 90 * 24 * time.Hour

// rollupQuery writes the totals of day $2 (payments made from $4, ids
// from $3, up to $6, ids below $5) of the merchants $1.
const rollupQuery = `
INSERT INTO payment_days (merchant_id, day, currency, count, succeeded, volume)
SELECT p.merchant_id, $2::date, p.currency, count(*), count(*) FILTER (WHERE p.status = 'succeeded'),
       coalesce(sum(p.amount) FILTER (WHERE p.status = 'succeeded'), 0)
FROM unnest($1::text[]) m(id) JOIN payments p ON p.merchant_id = m.id
WHERE p.id >= $3 AND p.id < $5 AND p.created_at >= $4 AND p.created_at < $6
GROUP BY p.merchant_id, p.currency`

// unfinishedBefore tells whether a payment made before $1 is not final
// yet (on the small partial index of unfinished payments): its day's
// totals may still change.
const unfinishedBefore = `SELECT EXISTS (SELECT 1 FROM payments
	WHERE status IN ('requires_action', 'processing') AND created_at < $1)`

// RollupDay recomputes every merchant's totals of the UTC day of day,
// batch merchants per transaction (a few short statements each: no long
// locks), so running it again for a day gives the same rows.
func RollupDay(ctx context.Context, db *postgres.DB, day time.Time, batch int) error {
	day = dayOf(day)
	next := day.AddDate(0, 0, 1)
	err := merchant.InBatches(ctx, db, batch, func(tx pgx.Tx, ids []string) error {
		if _, err := tx.Exec(ctx, `DELETE FROM payment_days WHERE day = $1 AND merchant_id = ANY($2)`, day, ids); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, rollupQuery, ids, day, id.Floor("pay", day), day, idBefore(next), next)
		return err
	})
	if err != nil {
		return fmt.Errorf("payment rollup of %s: %w", day.Format(time.DateOnly), err)
	}
	return nil
}

// Rollup rolls up, one after another, every day after the cover's last
// that ended at least Grace ago and whose payments are all final, moving
// the cover past each: the worker's scheduled task. The first run starts
// Backfill ago. A run cut short goes on from where it was; a payment left
// unfinished holds its day (and the days after it) back until it ends.
func Rollup(ctx context.Context, db *postgres.DB, now time.Time, batch int) error {
	last := dayOf(now.Add(-Grace)).AddDate(0, 0, -1)
	from := dayOf(now.Add(-Backfill))
	_, covered, ok, err := Cover(ctx, db.Pool)
	if err != nil {
		return err
	}
	if ok {
		from = covered.AddDate(0, 0, 1)
	}
	for d := from; !d.After(last); d = d.AddDate(0, 0, 1) {
		var unfinished bool
		if err := db.Pool.QueryRow(ctx, unfinishedBefore, d.AddDate(0, 0, 1)).Scan(&unfinished); err != nil {
			return fmt.Errorf("payment rollup: %w", err)
		}
		if unfinished {
			return nil
		}
		if err := RollupDay(ctx, db, d, batch); err != nil {
			return err
		}
		if _, err := db.Pool.Exec(ctx, `INSERT INTO payment_days_cover (first, last) VALUES ($1, $1)
			ON CONFLICT (one) DO UPDATE SET last = greatest(payment_days_cover.last, excluded.last)`, d); err != nil {
			return fmt.Errorf("payment rollups' cover: %w", err)
		}
	}
	return nil
}
