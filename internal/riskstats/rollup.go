package riskstats

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/postgres"
)

// Grace is how long after a UTC day ends it is rolled up: a payment's
// risk row is dated when its attempt was screened and commits a little
// later, so a day is only closed once nothing can still be written into it.
const Grace = time.Hour

// rollupQuery recomputes day $2 (from $3 to $4) for the merchants $1 that
// had any screening or fraudulent refund on it.
const rollupQuery = `
INSERT INTO risk_daily (merchant_id, day, outcomes, blocked, reasons, fraudulent_refunds)
SELECT * FROM (
  SELECT m.id, $2::date,
    coalesce((SELECT jsonb_object_agg(outcome, n) FROM (SELECT outcome, count(*) n FROM payment_risk
              WHERE merchant_id = m.id AND created_at >= $3 AND created_at < $4 GROUP BY outcome) o), '{}') outcomes,
    coalesce((SELECT jsonb_object_agg(currency, amount) FROM (SELECT p.currency, sum(p.amount) amount
              FROM payment_risk d JOIN payments p ON p.id = d.payment_id
              WHERE d.merchant_id = m.id AND d.created_at >= $3 AND d.created_at < $4 AND d.outcome = 'block'
              GROUP BY p.currency) b), '{}'),
    coalesce((SELECT jsonb_object_agg(reason, n) FROM (SELECT reason, count(*) n FROM payment_risk d, unnest(d.reasons) reason
              WHERE d.merchant_id = m.id AND d.created_at >= $3 AND d.created_at < $4 GROUP BY reason) x), '{}'),
    (SELECT count(*) FROM refunds WHERE merchant_id = m.id AND reason = 'fraudulent'
       AND created_at >= $3 AND created_at < $4) fraud
  FROM unnest($1::text[]) m(id)) s
WHERE s.outcomes <> '{}' OR s.fraud > 0`

// RollupDay recomputes every merchant's rollup of the UTC day of day,
// batch merchants per transaction (each a few short statements: no long
// locks), so running it again for a day gives the same rows.
func RollupDay(ctx context.Context, db *postgres.DB, day time.Time, batch int) error {
	day = dayOf(day)
	err := merchant.InBatches(ctx, db, batch, func(tx pgx.Tx, ids []string) error {
		if _, err := tx.Exec(ctx, `DELETE FROM risk_daily WHERE day = $1 AND merchant_id = ANY($2)`, day, ids); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, rollupQuery, ids, day, day, day.AddDate(0, 0, 1))
		return err
	})
	if err != nil {
		return fmt.Errorf("risk rollup of %s: %w", day.Format(time.DateOnly), err)
	}
	return nil
}

// Rollup rolls up every closed day after the watermark (at most MaxDays
// back from now), one day after another, moving the watermark past each:
// the worker's scheduled task. A run cut short goes on from where it was.
func Rollup(ctx context.Context, db *postgres.DB, now time.Time, batch int) error {
	last := dayOf(now.Add(-Grace)).AddDate(0, 0, -1)
	from := dayOf(now).AddDate(0, 0, -MaxDays)
	w, ok, err := Watermark(ctx, db.Pool)
	if err != nil {
		return err
	}
	if ok && w.AddDate(0, 0, 1).After(from) {
		from = w.AddDate(0, 0, 1)
	}
	for d := from; !d.After(last); d = d.AddDate(0, 0, 1) {
		if err := RollupDay(ctx, db, d, batch); err != nil {
			return err
		}
		if _, err := db.Pool.Exec(ctx, `INSERT INTO risk_rollup_watermark (day) VALUES ($1)
			ON CONFLICT (one) DO UPDATE SET day = greatest(risk_rollup_watermark.day, excluded.day)`, d); err != nil {
			return fmt.Errorf("risk rollup watermark: %w", err)
		}
	}
	return nil
}

// Watermark is the last UTC day every merchant's rollup is complete for;
// ok is false before the first rollup.
func Watermark(ctx context.Context, db postgres.DBTX) (day time.Time, ok bool, err error) {
	err = db.QueryRow(ctx, `SELECT day FROM risk_rollup_watermark`).Scan(&day)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("risk rollup watermark: %w", err)
	}
	return day.UTC(), true, nil
}
