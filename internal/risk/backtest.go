package risk

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/wire"
)

// Backtest window and size (API.md Part 3).
const (
	BacktestDays    = 30
	BacktestMax     = 10000
	backtestExample = 20
)

// selectBacktest reads the merchant's payments since $2, whose ids are
// from $3 up (id.Floor of $2), at most BacktestMax, newest first, with what
// their screening saw. As in postgres.Newest, the merchant is a range of one
// value and the order starts with it, so the page is one range of
// payments_merchant_id_idx that stops at the window's first id, never the
// primary key walked back through every merchant's payments of the window.
var selectBacktest = `
SELECT p.id, p.amount, p.currency, p.method_type, coalesce(p.card_brand, ''), coalesce(p.card_fingerprint, ''),
       p.customer_email, coalesce(p.payment_link_id, ''), coalesce(p.payment_form_id, ''), coalesce(p.realm, ''),
       coalesce(l.metadata, f.metadata, '{}'), coalesce(pr.score, 0), coalesce(pr.signals, '{}')
FROM payments p
LEFT JOIN payment_links l ON l.id = p.payment_link_id
LEFT JOIN payment_forms f ON f.id = p.payment_form_id
LEFT JOIN payment_risk pr ON pr.payment_id = p.id
WHERE p.merchant_id >= $1 AND p.merchant_id <= $1 AND p.id >= $3 AND p.created_at >= $2
ORDER BY p.merchant_id, p.id DESC LIMIT ` + strconv.Itoa(BacktestMax)

// Backtest counts how many of merchantID's payments of the last 30 days
// (at most the latest 10,000, whatever their status) expression would
// have matched, with each payment's attributes as they were when it was
// screened (a payment made before screening has zero counters).
// expression must have passed Compile.
func Backtest(ctx context.Context, db postgres.DBTX, merchantID, expression string, now time.Time) (wire.RiskBacktest, error) {
	out := wire.RiskBacktest{Payments: []string{}}
	prg, err := Compile(expression)
	if err != nil {
		return out, RuleInvalid(err)
	}
	since := now.Add(-BacktestDays * 24 * time.Hour)
	rows, err := db.Query(ctx, selectBacktest, merchantID, since, id.Floor("pay", since))
	if err != nil {
		return out, fmt.Errorf("backtest: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			payID   string
			a       Attempt
			score   int
			signals map[string]any
		)
		if err := rows.Scan(&payID, &a.Amount, &a.Currency, &a.Method, &a.Brand, &a.Fingerprint, &a.Email, &a.Link,
			&a.Form, &a.Realm, &a.Metadata, &score, &signals); err != nil {
			return out, fmt.Errorf("backtest: %w", err)
		}
		a.IP, _ = signals["ip"].(string)
		c := Counts{CardAttempts: num(signals["card_attempts_1h"]), CardFailures: num(signals["card_failures_1h"]),
			IPAttempts: num(signals["ip_attempts_10m"]), EmailCards: num(signals["email_cards_24h"])}
		out.Of++
		ok, err := prg.Match(Vars(&a, c, score, Level(score), num(signals["customer_payments"])))
		if err != nil || !ok {
			continue
		}
		out.Matched++
		if len(out.Payments) < backtestExample {
			out.Payments = append(out.Payments, payID)
		}
	}
	return out, rows.Err()
}

// num reads a JSON number as an int64 (0 for anything else).
func num(v any) int64 {
	if f, ok := v.(float64); ok {
		return int64(f)
	}
	return 0
}
