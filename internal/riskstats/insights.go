// Package riskstats summarises a merchant's risk screening: the insights
// of GET /v1/risk/insights and the dashboard's outcomes per day, read from
// per-merchant daily rollups (closed UTC days, written by the worker's
// Rollup) and from payment_risk for the parts of the window not rolled up.
package riskstats

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/wire"
)

// MaxDays is the longest window insights and the chart read.
const MaxDays = 90

// ErrDaysInvalid refuses an insights window outside 1..90 days.
var ErrDaysInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "parameter_invalid", Param: "days",
	Message: "days must be a whole number from 1 to 90."}

// ParseDays reads the insights window: "" is 30.
func ParseDays(s string) (int, error) {
	if s == "" {
		return 30, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxDays {
		return 0, ErrDaysInvalid
	}
	return n, nil
}

// insightsQuery reads a merchant's screening since $2 in one statement:
// the raw rows of [$2, $3) and [$4, now), and the rollups of days $5..$6
// (the whole days between), added up per outcome, currency and reason;
// then open reviews and fraudulent refunds, split the same way.
const insightsQuery = `
WITH d AS (SELECT outcome, reasons, payment_id FROM payment_risk
           WHERE merchant_id = $1 AND ((created_at >= $2 AND created_at < $3) OR created_at >= $4)),
r AS (SELECT outcomes, blocked, reasons, fraudulent_refunds FROM risk_daily
      WHERE merchant_id = $1 AND day BETWEEN $5 AND $6),
o AS (SELECT outcome k, count(*) n FROM d GROUP BY outcome
      UNION ALL SELECT e.key, e.value::bigint FROM r, jsonb_each_text(r.outcomes) e),
b AS (SELECT p.currency k, sum(p.amount) n FROM d JOIN payments p ON p.id = d.payment_id
      WHERE d.outcome = 'block' GROUP BY p.currency
      UNION ALL SELECT e.key, e.value::numeric FROM r, jsonb_each_text(r.blocked) e),
x AS (SELECT reason k, count(*) n FROM d, unnest(d.reasons) reason GROUP BY reason
      UNION ALL SELECT e.key, e.value::bigint FROM r, jsonb_each_text(r.reasons) e)
SELECT
  coalesce((SELECT jsonb_object_agg(k, n) FROM (SELECT k, sum(n) n FROM o GROUP BY k) s), '{}'),
  coalesce((SELECT jsonb_agg(jsonb_build_object('currency', k, 'amount', n) ORDER BY k)
            FROM (SELECT k, sum(n) n FROM b GROUP BY k) s), '[]'),
  coalesce((SELECT jsonb_agg(jsonb_build_object('reason', k, 'count', n) ORDER BY n DESC, k)
            FROM (SELECT k, sum(n) n FROM x GROUP BY k ORDER BY n DESC, k LIMIT 10) s), '[]'),
  (SELECT count(*) FROM reviews WHERE merchant_id = $1 AND status = 'open'),
  ((SELECT count(*) FROM refunds WHERE merchant_id = $1 AND reason = 'fraudulent'
     AND ((created_at >= $2 AND created_at < $3) OR created_at >= $4))
   + coalesce((SELECT sum(fraudulent_refunds) FROM r), 0))::bigint`

// split is how a window from start to now is read: raw rows in
// [start, headEnd) and from tailFrom on, rollups of the days from
// firstDay to lastDay (none when lastDay is before firstDay).
type split struct {
	start, headEnd, tailFrom time.Time
	firstDay, lastDay        time.Time
}

// splitWindow reads the whole days after start's day that are rolled up
// (up to the watermark) from the rollups, and everything else raw.
func splitWindow(ctx context.Context, db postgres.DBTX, start time.Time) (split, error) {
	w, ok, err := Watermark(ctx, db)
	if err != nil {
		return split{}, err
	}
	s := split{start: start, headEnd: dayOf(start).AddDate(0, 0, 1)}
	s.firstDay, s.lastDay, s.tailFrom = s.headEnd, s.headEnd.AddDate(0, 0, -1), s.headEnd
	if ok && !w.Before(s.headEnd) {
		s.lastDay, s.tailFrom = w, w.AddDate(0, 0, 1)
	}
	return s, nil
}

// Insights summarises merchantID's screening over the last days days
// (API.md Part 3): the window is exactly days×24 hours back from now.
func Insights(ctx context.Context, db postgres.DBTX, merchantID string, days int, now time.Time) (wire.RiskInsights, error) {
	out := wire.RiskInsights{Days: days}
	s, err := splitWindow(ctx, db, now.Add(-time.Duration(days)*24*time.Hour))
	if err != nil {
		return out, err
	}
	var outcomes map[string]int64
	err = db.QueryRow(ctx, insightsQuery, merchantID, s.start, s.headEnd, s.tailFrom, s.firstDay, s.lastDay).
		Scan(&outcomes, &out.BlockedAmount, &out.TopReasons, &out.OpenReviews, &out.FraudulentRefunds)
	if err != nil {
		return out, fmt.Errorf("risk insights: %w", err)
	}
	out.Outcomes = wire.RiskOutcomes{Allow: outcomes["allow"], Review: outcomes["review"],
		Challenge: outcomes["challenge"], Block: outcomes["block"]}
	out.Attempts = out.Outcomes.Allow + out.Outcomes.Review + out.Outcomes.Challenge + out.Outcomes.Block
	return out, nil
}

// dayOf is the UTC day t falls in, at its midnight.
func dayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
