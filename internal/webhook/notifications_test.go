package webhook

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/postgres"
)

// A failed payment tells its shopper why, with the link to try again while
// the link takes payments; each refund tells the amount and what is left.
// Each status change brings one e-mail, however often its events are
// processed or redelivered.
func TestShopperEmailsOnFailureAndRefund(t *testing.T) {
	t.Parallel()
	retry := "https://pay.test/pay/plink_01kaqv7n2v8d3m2k3v9x5h4q7z?exp=1&kid=k&sig=s"
	f := newFixture(t, func(c *Config) {
		c.RetryURL = func(_ context.Context, _ postgres.DBTX, merchantID, linkID string) string {
			if linkID == "plink_01kaqv7n2v8d3m2k3v9x5h4q7z" {
				return retry
			}
			return ""
		}
	})
	failed := payment("pay_failed")
	failed["status"], failed["failure_code"], failed["failure_message"] = "failed", "card_declined", "Your card was declined."
	evt := f.record(PaymentFailed, failed)
	closed := payment("pay_failed_closed")
	closed["status"], closed["payment_link"] = "failed", "plink_closed"
	f.record(PaymentFailed, closed)

	// Two partial refunds of one payment, each recorded as checkout does:
	// payment.refunded and refund.succeeded in one transaction.
	paid := payment("pay_refunded")
	refund := func(id string, amount, total int) {
		paid["amount_refunded"] = total
		f.tx(func(tx pgx.Tx) error {
			now := f.clock.Now()
			if _, err := Record(f.ctx, tx, f.merchant.ID, PaymentRefunded, paid, now); err != nil {
				return err
			}
			_, err := Record(f.ctx, tx, f.merchant.ID, RefundSucceeded, map[string]any{"id": id, "payment": "pay_refunded",
				"amount": amount, "currency": "USD", "status": "succeeded"}, now)
			return err
		})
		f.clock.Advance(time.Millisecond)
	}
	refund("re_1", 1000, 1000)
	refund("re_2", 500, 1500)
	if _, err := f.svc.ProcessEvents(f.ctx, 100); err != nil {
		t.Fatal(err)
	}
	f.tx(func(tx pgx.Tx) error { _, err := f.svc.Redeliver(f.ctx, tx, f.merchant.ID, evt, ""); return err })
	f.record(PaymentFailed, failed) // the same failure reported twice
	if _, err := f.svc.ProcessEvents(f.ctx, 100); err != nil {
		t.Fatal(err)
	}
	byKey := map[string]email{}
	for _, m := range f.emails() {
		if _, dup := byKey[m.key]; dup {
			t.Fatalf("two e-mails with key %s", m.key)
		}
		byKey[m.key] = m
	}
	if len(byKey) != 4 {
		t.Fatalf("e-mails %v; want one per failure and one per refund", keys(byKey))
	}
	fe := byKey["payment_failed:pay_failed"]
	if fe.to != "ada@example.test" || !strings.Contains(fe.subject, "did not go through") ||
		!strings.Contains(fe.body, "Your card was declined.") || !strings.Contains(fe.body, retry) ||
		!strings.Contains(fe.body, "$25.00") || !strings.Contains(fe.body, "Acme Mugs") {
		t.Fatalf("failure e-mail = %+v", fe)
	}
	if c := byKey["payment_failed:pay_failed_closed"]; strings.Contains(c.body, "https://") ||
		!strings.Contains(c.body, "go back to “Acme Mugs”") {
		t.Fatalf("failure on a closed link offers a retry: %+v", c)
	}
	for key, want := range map[string][]string{
		"refund:re_1": {"refunded $10.00", "Refunded in all:  $10.00", "Still paid:       $15.00"},
		"refund:re_2": {"refunded $5.00", "Refunded in all:  $15.00", "Still paid:       $10.00"},
	} {
		for _, w := range want {
			if !strings.Contains(byKey[key].body, w) {
				t.Errorf("%s lacks %q:\n%s", key, w, byKey[key].body)
			}
		}
	}
	var html string
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT html FROM emails WHERE dedupe_key = 'refund:re_2'`).Scan(&html); err != nil ||
		!strings.Contains(html, "<html") || !strings.Contains(html, "$15.00") {
		t.Fatalf("html part = %.200q, %v", html, err)
	}
}
