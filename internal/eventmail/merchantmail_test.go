package eventmail

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/webhook"
)

// sendable counts the e-mails to to that are queued for sending (not held
// back by a limit).
func (f *fixture) sendable(to string) int {
	f.t.Helper()
	var n int
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT count(*) FROM emails WHERE to_addr = $1 AND failed_at IS NULL`, to).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// TestMerchantEmailsOncePerChangeAndWithinLimits: each notify_on event is
// mailed once per status change and address, even when a batch is run
// again (its mark lost) or the same change is reported twice; a second
// refund of the same payment is a new change; a notification address
// other than the sign-up one is under the per-recipient limit, the
// sign-up address under none; neither counts against the merchant's
// (shopper) limit.
func TestMerchantEmailsOncePerChangeAndWithinLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.svc.cfg.ShopperEmails = notify.ShopperLimits{PerRecipient: notify.Limit{N: 2, Per: 24 * time.Hour},
		PerMerchant: notify.Limit{N: 1, Per: 24 * time.Hour}}
	alerts, on := "alerts@acme.test", []string{webhook.PaymentFailed, webhook.PaymentRefunded, webhook.PaymentSucceeded}
	f.tx(func(tx pgx.Tx) error {
		_, err := f.svc.cfg.Merchants.Update(f.ctx, tx, f.merchant.ID, merchant.Update{NotificationEmail: &alerts, NotifyOn: &on})
		return err
	})
	failed := payment("pay_failed")
	failed["status"], failed["customer"] = "failed", nil
	refunded := payment("pay_refunded")
	refunded["customer"] = nil
	refunded["amount_refunded"] = 500
	f.record(webhook.PaymentFailed, failed)
	f.record(webhook.PaymentRefunded, refunded)
	f.record(webhook.PaymentRefunded, refunded) // the same change reported twice
	process := func(want int) {
		t.Helper()
		if n, err := f.svc.ProcessEvents(f.ctx, 100); n != want || err != nil {
			t.Fatalf("ProcessEvents = %d, %v; want %d", n, err, want)
		}
	}
	process(3)
	if n := f.sendable(alerts); n != 2 {
		t.Fatalf("%d e-mails to %s; want 2 (the failure, the refund once)", n, alerts)
	}
	// A batch whose mark was lost runs again: nothing more.
	if _, err := f.db.Pool.Exec(f.ctx, `UPDATE events SET notified_at = NULL`); err != nil {
		t.Fatal(err)
	}
	process(3)
	if n := f.sendable(alerts); n != 2 {
		t.Fatalf("%d e-mails to %s after the batch ran again; want 2", n, alerts)
	}
	// A second refund is a new change, but the address had its 2 today:
	// it is stored, held back, not sent.
	refunded["amount_refunded"] = 900
	f.record(webhook.PaymentRefunded, refunded)
	process(1)
	var held int
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT count(*) FROM emails WHERE to_addr = $1 AND failed_at IS NOT NULL
		AND dedupe_key = 'notify:payment.refunded:pay_refunded:900:alerts@acme.test'`, alerts).Scan(&held); err != nil || held != 1 {
		t.Fatalf("held back second refund e-mail: %d, %v; want 1", held, err)
	}
	// The sign-up address is the merchant's alone: no per-recipient limit.
	signUp := "ops@acme.test"
	f.tx(func(tx pgx.Tx) error {
		_, err := f.svc.cfg.Merchants.Update(f.ctx, tx, f.merchant.ID, merchant.Update{NotificationEmail: &signUp})
		return err
	})
	for _, id := range []string{"pay_a", "pay_b", "pay_c"} {
		p := payment(id)
		p["customer"] = nil
		f.record(webhook.PaymentSucceeded, p)
	}
	process(3)
	if n := f.sendable(signUp); n != 3 {
		t.Fatalf("%d e-mails to the sign-up address; want 3 (no limit)", n)
	}
}
