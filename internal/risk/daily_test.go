package risk

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paylink/paylink/internal/id"
)

// Daily counts each outcome on its UTC day, from since on, for the one
// merchant asked about.
func TestDaily(t *testing.T) {
	f := newEngineFixture(t)
	ctx := context.Background()
	f.merchant(t, "mer_daily")
	f.merchant(t, "mer_other")
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	decide := func(merchantID string, at time.Time, outcome string) {
		t.Helper()
		payID := id.NewAt("pay", at)
		if _, err := f.db.Pool.Exec(ctx, `INSERT INTO payments (id, merchant_id, amount, currency, status, customer_email,
			customer_name, created_at, updated_at) VALUES ($1, $2, 100, 'USD', 'succeeded', 'a@b.test', 'S', $3, $3)`,
			payID, merchantID, at); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.Pool.Exec(ctx, `INSERT INTO payment_risk (payment_id, merchant_id, score, level, outcome, model,
			created_at) VALUES ($1, $2, 10, 'normal', $3, 'default-1', $4)`, payID, merchantID, outcome, at); err != nil {
			t.Fatal(err)
		}
	}
	decide("mer_daily", day.Add(-time.Minute), Block)                // before since
	decide("mer_daily", day.Add(time.Minute), Allow)                 // day 1
	decide("mer_daily", day.Add(23*time.Hour+59*time.Minute), Allow) // day 1, last minute
	decide("mer_daily", day.Add(24*time.Hour), Review)               // day 2, first instant
	decide("mer_daily", day.Add(30*time.Hour), Block)
	decide("mer_daily", day.Add(72*time.Hour), Challenge) // day 4 (day 3 has none)
	decide("mer_other", day.Add(time.Hour), Block)

	got, err := Daily(ctx, f.db.Pool, "mer_daily", day)
	if err != nil {
		t.Fatal(err)
	}
	want := []DayOutcomes{
		{Date: day, Allow: 2},
		{Date: day.AddDate(0, 0, 1), Review: 1, Block: 1},
		{Date: day.AddDate(0, 0, 3), Challenge: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Daily (-want +got):\n%s", diff)
	}
	if got, err := Daily(ctx, f.db.Pool, "mer_nobody", day); err != nil || len(got) != 0 {
		t.Fatalf("another merchant's days: %v %v", got, err)
	}
}
