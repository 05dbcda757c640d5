package risk

import (
	"context"

	"slices"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/id"
)

// amount_anomaly compares with the median of the merchant's last
// AmountHistory succeeded payments in the currency: read on every payment
// until that window is full (a new merchant's first payments count at
// once), then reused for amountsTTL and read again after it.
// customer_payments stops at CustomerPaymentsCap.
func TestAmountHistoryAndCustomerCount(t *testing.T) {
	f := newEngineFixture(t)
	th := DefaultThresholds
	th.AmountFactor, th.AmountHistory, th.AmountMinimum = 10, 5, 3
	e := NewEngine(f.db, NewCounters(f.rdb, "", th, discard), th, discard,
		func() time.Time { return f.now })
	ctx := context.Background()
	f.merchant(t, "mer_amounts")
	at := t0.Add(-time.Hour)
	pay := func(amount int64, email string) {
		t.Helper()
		at = at.Add(time.Millisecond)
		if _, err := f.db.Pool.Exec(ctx, `INSERT INTO payments (id, merchant_id, amount, currency, status, customer_email,
			customer_name, created_at, updated_at) VALUES ($1, 'mer_amounts', $2, 'USD', 'succeeded', $3, 'S', $4, $4)`,
			id.NewAt("pay", at), amount, email, at); err != nil {
			t.Fatal(err)
		}
	}
	big := func() *Attempt { a := shopper("mer_amounts"); a.Amount = 20000; return a }
	anomaly := func(step string, want bool) Decision {
		t.Helper()
		d, err := e.Screen(ctx, big())
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(d.Reasons, AmountAnomaly); got != want {
			t.Fatalf("%s: amount_anomaly = %v, want %v (reasons %v)", step, got, want, d.Reasons)
		}
		return d
	}

	pay(1000, "a@x.test")
	pay(1000, "b@x.test")
	anomaly("2 succeeded, below the minimum of 3", false)
	pay(1000, "c@x.test")
	anomaly("3 succeeded at a median of 10.00: 200.00 is over 10 times it", true)
	pay(1000, "d@x.test")
	pay(1000, "e@x.test")
	anomaly("a full window of 5, now remembered", true)

	// The last five are now 50.00 each: 200.00 is no anomaly, but the
	// remembered window stands until it is a minute old.
	for range 5 {
		pay(5000, "f@x.test")
	}
	f.now = t0.Add(amountsTTL - time.Millisecond)
	anomaly("59.999 s after the window was read", true)
	f.now = t0.Add(amountsTTL)
	anomaly("a minute after: read again", false)

	// customer_payments: Ada has none, then counts up to the cap.
	d := anomaly("Ada's first payment", false)
	if d.signals["customer_payments"] != int64(0) {
		t.Fatalf("customer_payments = %v, want 0", d.signals["customer_payments"])
	}
	for range CustomerPaymentsCap + 5 {
		pay(5000, "ADA@example.test")
	}
	d = anomaly("after 105 of Ada's payments", false)
	if d.signals["customer_payments"] != int64(CustomerPaymentsCap) {
		t.Fatalf("customer_payments = %v, want the cap %d", d.signals["customer_payments"], CustomerPaymentsCap)
	}
}

// The median of an even number of amounts is the mean of the two middle
// ones: with 10.00, 10.00, 30.00, 30.00 it is 20.00, so amount_anomaly
// fires above 200.00, not above 100.00 (the lower middle amount).
func TestAmountAnomalyEvenMedian(t *testing.T) {
	f := newEngineFixture(t)
	th := DefaultThresholds
	th.AmountFactor, th.AmountHistory, th.AmountMinimum = 10, 4, 4
	e := NewEngine(f.db, NewCounters(f.rdb, "", th, discard), th, discard,
		func() time.Time { return f.now })
	ctx := context.Background()
	f.merchant(t, "mer_median")
	at := t0.Add(-time.Hour)
	for _, amount := range []int64{1000, 3000, 1000, 3000} {
		at = at.Add(time.Millisecond)
		if _, err := f.db.Pool.Exec(ctx, `INSERT INTO payments (id, merchant_id, amount, currency, status, customer_email,
			customer_name, created_at, updated_at) VALUES ($1, 'mer_median', $2, 'USD', 'succeeded', 'a@x.test', 'S', $3, $3)`,
			id.NewAt("pay", at), amount, at); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		amount int64
		want   bool
	}{{15000, false}, {20000, false}, {20001, true}} {
		a := shopper("mer_median")
		a.Amount = tc.amount
		d, err := e.Screen(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(d.Reasons, AmountAnomaly); got != tc.want {
			t.Errorf("amount %d: amount_anomaly = %v, want %v (reasons %v)", tc.amount, got, tc.want, d.Reasons)
		}
	}
}
