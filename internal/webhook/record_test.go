package webhook

import (
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestRecordCreatesDeliveriesForSubscribedEnabledEndpoints(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	all := f.endpoint("https://a.shop.test/", AllEvents)
	paid := f.endpoint("https://b.shop.test/", PaymentSucceeded, PaymentRefunded)
	f.endpoint("https://c.shop.test/", PaymentLinkExpired)
	off := f.endpoint("https://d.shop.test/", AllEvents)
	gone := f.endpoint("https://e.shop.test/", AllEvents)
	disabled := StatusDisabled
	f.tx(func(tx pgx.Tx) error {
		if _, err := f.svc.UpdateEndpoint(f.ctx, tx, f.merchant.ID, off.ID, EndpointUpdate{Status: &disabled}); err != nil {
			return err
		}
		return f.svc.DeleteEndpoint(f.ctx, tx, f.merchant.ID, gone.ID)
	})
	evtID := f.record(PaymentSucceeded, payment("pay_1"))
	got := map[string]bool{}
	for _, d := range f.deliveries(evtID) {
		got[d.EndpointID] = true
	}
	if len(got) != 2 || !got[all.ID] || !got[paid.ID] {
		t.Fatalf("deliveries to %v; want exactly %s (*) and %s (payment.succeeded)", got, all.ID, paid.ID)
	}
	if n := len(f.deliveries(f.record(PaymentFailed, payment("pay_2")))); n != 1 {
		t.Fatalf("payment.failed: %d deliveries, want 1 (the * endpoint)", n)
	}
}

// TestParseRetryAfter: seconds or an HTTP date, never negative, at most a
// day; anything else is no Retry-After.
func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 0}, {"0", 0}, {"-5", 0}, {"soon", 0}, {"30", 30 * time.Second}, {"999999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	} {
		if got := parseRetryAfter(tc.header, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tc.header, got, tc.want)
		}
	}
}
