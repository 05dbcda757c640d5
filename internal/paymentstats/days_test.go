package paymentstats

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
)

// rawDays is Days as it was before rollups: every payment since, summed.
func rawDays(t *testing.T, db *postgres.DB, merchantID string, since time.Time) []Day {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `
		SELECT date_trunc('day', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', currency, count(*),
		       count(*) FILTER (WHERE status = 'succeeded'), coalesce(sum(amount) FILTER (WHERE status = 'succeeded'), 0)
		FROM payments WHERE merchant_id = $1 AND created_at >= $2 GROUP BY 1, 2 ORDER BY 1, 2`, merchantID, since)
	if err != nil {
		t.Fatal(err)
	}
	var out []Day
	for rows.Next() {
		var d Day
		if err := rows.Scan(&d.Date, &d.Currency, &d.Count, &d.Succeeded, &d.Volume); err != nil {
			t.Fatal(err)
		}
		d.Date = d.Date.UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// pay writes one payment of merchantID made at at.
func pay(t *testing.T, db *postgres.DB, merchantID, status, currency string, amount int64, at time.Time) string {
	t.Helper()
	p := id.NewAt("pay", at)
	if _, err := db.Pool.Exec(context.Background(), `INSERT INTO payments (id, merchant_id, amount, currency, status,
		customer_email, customer_name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'c@x.test', 'S', $6, $6)`,
		p, merchantID, amount, currency, status, at); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRollupsGiveTheRawAnswer writes random payments over twenty days for
// three merchants (some on both sides of midnights), and checks Days from
// many starting points (midnights and not) against the raw sums: before
// any rollup, after the worker's rollup in batches of one merchant, while
// an unfinished payment holds its day back, and after it ends.
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
	now := time.Date(2026, 3, 20, 14, 30, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(3, 19))
	statuses := []string{"succeeded", "succeeded", "succeeded", "failed", "canceled"}
	for range 800 {
		at := now.Add(-time.Duration(rng.Int64N(int64(20*24*time.Hour))) - time.Millisecond)
		pay(t, db, merchants[rng.IntN(2)], statuses[rng.IntN(len(statuses))], []string{"EUR", "USD"}[rng.IntN(2)],
			int64(100+rng.IntN(10000)), at) // mer_c has nothing
	}
	for d := dayOf(now).AddDate(0, 0, -19); d.Before(now); d = d.AddDate(0, 0, 1) {
		pay(t, db, "mer_a", "succeeded", "EUR", 101, d.Add(-time.Millisecond))
		pay(t, db, "mer_a", "succeeded", "EUR", 103, d)
	}
	check := func(step string) {
		t.Helper()
		for _, m := range merchants {
			for _, since := range []time.Time{dayOf(now).AddDate(0, 0, -29), dayOf(now).AddDate(0, 0, -7),
				dayOf(now).AddDate(0, 0, -12).Add(5 * time.Hour), dayOf(now), now.Add(-time.Hour)} {
				got, err := Days(ctx, db.Pool, m, since)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(rawDays(t, db, m, since), got, cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("%s: %s since %s (-raw +Days):\n%s", step, m, since, diff)
				}
			}
		}
	}
	check("no rollup yet")

	// A challenge from eight days ago is still open: the days before it
	// are rolled up, its day and the ones after wait.
	open := pay(t, db, "mer_b", "requires_action", "USD", 5000, dayOf(now).AddDate(0, 0, -8).Add(9*time.Hour))
	if err := Rollup(ctx, db, now, 1); err != nil {
		t.Fatal(err)
	}
	first, last, ok, err := Cover(ctx, db.Pool)
	if err != nil || !ok || !first.Equal(dayOf(now.Add(-Backfill))) || !last.Equal(dayOf(now).AddDate(0, 0, -9)) {
		t.Fatalf("cover after the first rollup = %v..%v %v %v, want %v..the day before the open challenge's",
			first, last, ok, err, dayOf(now.Add(-Backfill)))
	}
	check("rolled up to the open challenge")

	if _, err := db.Pool.Exec(ctx, `UPDATE payments SET status = 'succeeded' WHERE id = $1`, open); err != nil {
		t.Fatal(err)
	}
	if err := Rollup(ctx, db, now, 1); err != nil {
		t.Fatal(err)
	}
	if _, last, _, _ = Cover(ctx, db.Pool); !last.Equal(dayOf(now).AddDate(0, 0, -1)) {
		t.Fatalf("cover ends %v once every payment is final, want yesterday", last)
	}
	var rows int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM payment_days WHERE merchant_id = 'mer_a'`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows < 19 {
		t.Fatalf("mer_a has %d rollup rows, want at least one per closed day with payments (19)", rows)
	}
	check("rolled up")

	// Running it again, or a day again, changes nothing.
	if err := Rollup(ctx, db, now, 2); err != nil {
		t.Fatal(err)
	}
	if err := RollupDay(ctx, db, dayOf(now).AddDate(0, 0, -3), 2); err != nil {
		t.Fatal(err)
	}
	check("rolled up again")
}
