package riskstats

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/wire"
)

// rawInsightsQuery is insights as they were before rollups: every raw row
// of the window. The rollup-based answer must equal it to the unit.
const rawInsightsQuery = `
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

func rawInsights(t *testing.T, db *postgres.DB, merchantID string, days int, now time.Time) wire.RiskInsights {
	t.Helper()
	out := wire.RiskInsights{Days: days}
	var o map[string]int64
	if err := db.Pool.QueryRow(context.Background(), rawInsightsQuery, merchantID, now.Add(-time.Duration(days)*24*time.Hour)).
		Scan(&o, &out.BlockedAmount, &out.TopReasons, &out.OpenReviews, &out.FraudulentRefunds); err != nil {
		t.Fatal(err)
	}
	out.Outcomes = wire.RiskOutcomes{Allow: o["allow"], Review: o["review"], Challenge: o["challenge"], Block: o["block"]}
	out.Attempts = out.Outcomes.Allow + out.Outcomes.Review + out.Outcomes.Challenge + out.Outcomes.Block
	return out
}

// rawDaily counts decisions per UTC day from the raw rows.
func rawDaily(t *testing.T, db *postgres.DB, merchantID string, days int, now time.Time) []DayOutcomes {
	t.Helper()
	first := dayOf(now).AddDate(0, 0, 1-days)
	out := make([]DayOutcomes, days)
	for i := range out {
		d := first.AddDate(0, 0, i)
		out[i].Day = d
		if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE outcome = 'allow'),
			count(*) FILTER (WHERE outcome = 'review'), count(*) FILTER (WHERE outcome = 'challenge'),
			count(*) FILTER (WHERE outcome = 'block') FROM payment_risk
			WHERE merchant_id = $1 AND created_at >= $2 AND created_at < $3`, merchantID, d, d.AddDate(0, 0, 1)).
			Scan(&out[i].Allow, &out[i].Review, &out[i].Challenge, &out[i].Block); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

type seeder struct {
	t   *testing.T
	db  *postgres.DB
	rng *rand.Rand
	n   int
}

var (
	outcomes = []string{"allow", "allow", "allow", "review", "challenge", "block"}
	reasons  = []string{"velocity_card", "velocity_ip", "amount_anomaly", "new_customer", "risk_degraded",
		"block_list", "card_testing", "rule_high_amount", "country_mismatch", "email_disposable", "ip_proxy", "many_cards"}
)

// attempt writes one screened payment of merchantID at at, with a random
// outcome, reasons, currency and amount, and now and then a refund
// (fraudulent or not) a random time later.
func (s *seeder) attempt(merchantID string, at time.Time) {
	s.t.Helper()
	ctx := context.Background()
	s.n++
	payID := id.NewAt("pay", at)
	outcome := outcomes[s.rng.IntN(len(outcomes))]
	status := "succeeded"
	if outcome == "block" {
		status = "failed"
	}
	currency := []string{"EUR", "USD", "GBP"}[s.rng.IntN(3)]
	amount := int64(100 + s.rng.IntN(100000))
	var rs []string
	for _, r := range reasons {
		if s.rng.IntN(4) == 0 {
			rs = append(rs, r)
		}
	}
	if rs == nil {
		rs = []string{}
	}
	if _, err := s.db.Pool.Exec(ctx, `INSERT INTO payments (id, merchant_id, amount, currency, status, customer_email,
		customer_name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'S', $7, $7)`,
		payID, merchantID, amount, currency, status, fmt.Sprintf("c%d@x.test", s.n), at); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.db.Pool.Exec(ctx, `INSERT INTO payment_risk (payment_id, merchant_id, score, level, outcome,
		reasons, model, created_at) VALUES ($1, $2, 10, 'normal', $3, $4, 'test', $5)`,
		payID, merchantID, outcome, rs, at); err != nil {
		s.t.Fatal(err)
	}
	if status == "succeeded" && s.rng.IntN(3) == 0 {
		reason := []string{"fraudulent", "duplicate", "requested_by_customer"}[s.rng.IntN(3)]
		rat := at.Add(time.Duration(s.rng.IntN(30*3600)) * time.Second)
		if _, err := s.db.Pool.Exec(ctx, `INSERT INTO refunds (id, merchant_id, payment_id, amount, currency, status,
			created_at, reason) VALUES ($1, $2, $3, $4, $5, 'succeeded', $6, $7)`,
			id.NewAt("re", rat), merchantID, payID, amount, currency, rat, reason); err != nil {
			s.t.Fatal(err)
		}
	}
}

// TestRollupsGiveTheRawAnswer writes random screening over twelve days
// for three merchants (with attempts on both sides of midnights), and
// checks insights for every window of 1..12 days, and the chart's days,
// against the raw aggregate: before any rollup, after the worker's
// rollup (in batches of one merchant), after a closed day got late rows
// and was rolled up again, and after rolling it up a third time.
func TestRollupsGiveTheRawAnswer(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	merchants := []string{"mer_a", "mer_b", "mer_c"}
	for _, m := range merchants {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO merchants (id, name, email, password_hash)
			VALUES ($1, 'Shop', $1 || '@shop.test', 'x')`, m); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 3, 10, 14, 30, 0, 0, time.UTC)
	s := &seeder{t: t, db: db, rng: rand.New(rand.NewPCG(22, 52))}
	for range 600 {
		at := now.Add(-time.Duration(s.rng.Int64N(int64(12*24*time.Hour))) - time.Millisecond)
		s.attempt(merchants[s.rng.IntN(2)], at) // mer_c has nothing
	}
	for d := dayOf(now).AddDate(0, 0, -11); d.Before(now); d = d.AddDate(0, 0, 1) {
		s.attempt("mer_a", d.Add(-time.Millisecond))
		s.attempt("mer_a", d)
	}
	// Refunds dated after now are not in anybody's window yet: drop them.
	if _, err := db.Pool.Exec(ctx, `DELETE FROM refunds WHERE created_at >= $1`, now); err != nil {
		t.Fatal(err)
	}

	check := func(step string) {
		t.Helper()
		for _, m := range merchants {
			for days := 1; days <= 12; days++ {
				got, err := Insights(ctx, db.Pool, m, days, now)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(rawInsights(t, db, m, days, now), got); diff != "" {
					t.Fatalf("%s: %s, %d days (-raw +rollups):\n%s", step, m, days, diff)
				}
				chart, err := OutcomesByDay(ctx, db.Pool, m, days, now)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(rawDaily(t, db, m, days, now), chart); diff != "" {
					t.Fatalf("%s: %s, chart of %d days (-raw +rollups):\n%s", step, m, days, diff)
				}
			}
		}
	}
	check("no rollup yet")

	if err := Rollup(ctx, db, now, 1); err != nil {
		t.Fatal(err)
	}
	w, ok, err := Watermark(ctx, db.Pool)
	if err != nil || !ok || !w.Equal(dayOf(now).AddDate(0, 0, -1)) {
		t.Fatalf("watermark = %v %v %v, want yesterday", w, ok, err)
	}
	var rows int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM risk_daily WHERE merchant_id = 'mer_a'`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows < 11 {
		t.Fatalf("mer_a has %d rollup rows, want one per closed day (at least 11)", rows)
	}
	check("rolled up")

	// A closed day gets late rows: insights read its (stale) rollup until
	// the day is rolled up again, then agree with the raw rows again.
	late := dayOf(now).AddDate(0, 0, -3).Add(7 * time.Hour)
	for range 20 {
		s.attempt("mer_b", late)
		late = late.Add(time.Minute)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM refunds WHERE created_at >= $1`, now); err != nil {
		t.Fatal(err)
	}
	got, err := Insights(ctx, db.Pool, "mer_b", 5, now)
	if err != nil {
		t.Fatal(err)
	}
	if raw := rawInsights(t, db, "mer_b", 5, now); raw.Attempts != got.Attempts+20 {
		t.Fatalf("before the day is rolled up again: %d attempts, raw %d: want the rollup read (20 fewer)",
			got.Attempts, raw.Attempts)
	}
	for range 2 {
		if err := RollupDay(ctx, db, late, 2); err != nil {
			t.Fatal(err)
		}
		check("day rolled up again")
	}

	// The next run rolls up today once it is closed (after Grace), and
	// only then.
	later := dayOf(now).AddDate(0, 0, 1).Add(Grace / 2)
	if err := Rollup(ctx, db, later, 500); err != nil {
		t.Fatal(err)
	}
	if w, _, _ := Watermark(ctx, db.Pool); !w.Equal(dayOf(now).AddDate(0, 0, -1)) {
		t.Fatalf("watermark %v moved within the grace period", w)
	}
	now = dayOf(now).AddDate(0, 0, 1).Add(Grace)
	if err := Rollup(ctx, db, now, 500); err != nil {
		t.Fatal(err)
	}
	if w, _, _ := Watermark(ctx, db.Pool); !w.Equal(dayOf(now).AddDate(0, 0, -1)) {
		t.Fatalf("watermark %v, want %v", w, dayOf(now).AddDate(0, 0, -1))
	}
	check("a day later")
}
