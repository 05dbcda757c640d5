package riskstats

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/postgres"
)

// DayOutcomes is one UTC day of a merchant's screening decisions.
type DayOutcomes struct {
	Day                             time.Time // midnight UTC
	Allow, Review, Challenge, Block int64
}

// dailyQuery counts decisions per day from $2 on: rollups up to day $3,
// raw rows from $4 on.
const dailyQuery = `
SELECT day, sum(a)::bigint, sum(r)::bigint, sum(c)::bigint, sum(b)::bigint FROM (
  SELECT day, coalesce((outcomes->>'allow')::bigint, 0) a, coalesce((outcomes->>'review')::bigint, 0) r,
         coalesce((outcomes->>'challenge')::bigint, 0) c, coalesce((outcomes->>'block')::bigint, 0) b
  FROM risk_daily WHERE merchant_id = $1 AND day >= $2::date AND day <= $3
  UNION ALL
  SELECT (created_at AT TIME ZONE 'UTC')::date, count(*) FILTER (WHERE outcome = 'allow'),
         count(*) FILTER (WHERE outcome = 'review'), count(*) FILTER (WHERE outcome = 'challenge'),
         count(*) FILTER (WHERE outcome = 'block')
  FROM payment_risk WHERE merchant_id = $1 AND created_at >= $4
  GROUP BY 1) t
GROUP BY day`

// OutcomesByDay is merchantID's decisions per UTC day over the last days
// days (1..MaxDays, today included), oldest first, with a zero entry for
// a day without any: what the dashboard's chart draws.
func OutcomesByDay(ctx context.Context, db postgres.DBTX, merchantID string, days int, now time.Time) ([]DayOutcomes, error) {
	if days < 1 || days > MaxDays {
		return nil, ErrDaysInvalid
	}
	first := dayOf(now).AddDate(0, 0, 1-days)
	last, tail := first.AddDate(0, 0, -1), first
	if w, ok, err := Watermark(ctx, db); err != nil {
		return nil, err
	} else if ok && !w.Before(first) {
		last, tail = w, w.AddDate(0, 0, 1)
	}
	rows, err := db.Query(ctx, dailyQuery, merchantID, first, last, tail)
	if err != nil {
		return nil, fmt.Errorf("risk outcomes by day: %w", err)
	}
	got := map[time.Time]DayOutcomes{}
	var d DayOutcomes
	_, err = pgx.ForEachRow(rows, []any{&d.Day, &d.Allow, &d.Review, &d.Challenge, &d.Block}, func() error {
		got[dayOf(d.Day)] = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("risk outcomes by day: %w", err)
	}
	out := make([]DayOutcomes, days)
	for i := range out {
		day := first.AddDate(0, 0, i)
		out[i] = got[day]
		out[i].Day = day
	}
	return out, nil
}
