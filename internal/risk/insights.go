package risk

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/wire"
)

// ErrDaysInvalid refuses an insights window outside 1..90 days.
var ErrDaysInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "parameter_invalid", Param: "days",
	Message: "days must be a whole number from 1 to 90."}

// ParseDays reads the insights window: "" is 30.
func ParseDays(s string) (int, error) {
	if s == "" {
		return 30, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 90 {
		return 0, ErrDaysInvalid
	}
	return n, nil
}

// insightsQuery reads a merchant's screening of the days since $2 in one
// statement: decisions by outcome, the blocked amount per currency, the
// ten commonest reasons, open reviews and fraudulent refunds.
const insightsQuery = `
WITH d AS (SELECT outcome, reasons, payment_id FROM payment_risk WHERE merchant_id = $1 AND created_at >= $2)
SELECT
  coalesce((SELECT jsonb_object_agg(outcome, n) FROM (SELECT outcome, count(*) n FROM d GROUP BY outcome) o), '{}'),
  coalesce((SELECT jsonb_agg(jsonb_build_object('currency', currency, 'amount', amount) ORDER BY currency)
            FROM (SELECT p.currency, sum(p.amount) amount FROM d JOIN payments p ON p.id = d.payment_id
                  WHERE d.outcome = 'block' GROUP BY p.currency) b), '[]'),
  coalesce((SELECT jsonb_agg(jsonb_build_object('reason', reason, 'count', n) ORDER BY n DESC, reason)
            FROM (SELECT reason, count(*) n FROM d, unnest(d.reasons) reason GROUP BY reason
                  ORDER BY n DESC, reason LIMIT 10) r), '[]'),
  (SELECT count(*) FROM reviews WHERE merchant_id = $1 AND status = 'open'),
  (SELECT count(*) FROM refunds WHERE merchant_id = $1 AND reason = 'fraudulent' AND created_at >= $2)`

// Insights summarises merchantID's screening over the last days days.
func Insights(ctx context.Context, db postgres.DBTX, merchantID string, days int, now time.Time) (wire.RiskInsights, error) {
	out := wire.RiskInsights{Days: days}
	var outcomes map[string]int64
	err := db.QueryRow(ctx, insightsQuery, merchantID, now.Add(-time.Duration(days)*24*time.Hour)).
		Scan(&outcomes, &out.BlockedAmount, &out.TopReasons, &out.OpenReviews, &out.FraudulentRefunds)
	if err != nil {
		return out, fmt.Errorf("risk insights: %w", err)
	}
	out.Outcomes = wire.RiskOutcomes{Allow: outcomes[Allow], Review: outcomes[Review], Challenge: outcomes[Challenge],
		Block: outcomes[Block]}
	out.Attempts = out.Outcomes.Allow + out.Outcomes.Review + out.Outcomes.Challenge + out.Outcomes.Block
	return out, nil
}
