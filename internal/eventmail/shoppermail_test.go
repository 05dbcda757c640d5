package eventmail

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/webhook"
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
		c.Describe = func(_ context.Context, _ postgres.DBTX, merchantID, linkID string) string {
			if linkID == "plink_01kaqv7n2v8d3m2k3v9x5h4q7z" {
				return "Sencha, 50 g"
			}
			return ""
		}
	})
	failed := payment("pay_failed")
	failed["status"], failed["failure_code"], failed["failure_message"] = "failed", "card_declined", "Your card was declined."
	evt := f.record(webhook.PaymentFailed, failed)
	closed := payment("pay_failed_closed")
	closed["status"], closed["payment_link"] = "failed", "plink_closed"
	f.record(webhook.PaymentFailed, closed)

	// Two partial refunds of one payment, each recorded as checkout does:
	// payment.refunded and refund.succeeded in one transaction.
	paid := payment("pay_refunded")
	refund := func(id string, amount, total int) {
		paid["amount_refunded"] = total
		f.tx(func(tx pgx.Tx) error {
			now := f.clock.Now()
			if _, err := webhook.Record(f.ctx, tx, f.merchant.ID, webhook.PaymentRefunded, paid, now); err != nil {
				return err
			}
			_, err := webhook.Record(f.ctx, tx, f.merchant.ID, webhook.RefundSucceeded, map[string]any{"id": id, "payment": "pay_refunded",
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
	f.tx(func(tx pgx.Tx) error { _, err := f.hooks.Redeliver(f.ctx, tx, f.merchant.ID, evt, ""); return err })
	f.record(webhook.PaymentFailed, failed) // the same failure reported twice
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
		!strings.Contains(fe.body, "$25.00") || !strings.Contains(fe.body, "Acme Mugs") ||
		!strings.Contains(fe.body, "For:          Sencha, 50 g") {
		t.Fatalf("failure e-mail = %+v", fe)
	}
	if c := byKey["payment_failed:pay_failed_closed"]; strings.Contains(c.body, "https://") ||
		!strings.Contains(c.body, "go back to “Acme Mugs”") || strings.Contains(c.body, "For:") {
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
	// The HTML part is stored as its template's data and rendered when sent.
	var emailID string
	var html *string
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT id, html FROM emails WHERE dedupe_key = 'refund:re_2'`).Scan(&emailID, &html); err != nil || html != nil {
		t.Fatalf("stored html = %v, %v; want none", html, err)
	}
	e, err := notify.Read(f.ctx, f.db.Pool, emailID)
	if err != nil || !strings.Contains(e.HTML, "<html") || !strings.Contains(e.HTML, "$15.00") {
		t.Fatalf("html part = %.200q, %v", e.HTML, err)
	}
}

// TestReceiptsAreDerivedOncePerPayment: a payment.succeeded event queues a
// receipt for the shopper (amount formatted, no card number) and, only
// when the merchant asked, an e-mail to the merchant. Redelivering the
// event, or a second event for the same payment, queues nothing more.
func TestReceiptsAreDerivedOncePerPayment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.endpoint("https://a.shop.test/", webhook.AllEvents)
	p := payment("pay_01kaqv7n2tq1w4e0m8a6r3c5yb")
	// A card number that slipped into free text must not reach the e-mail.
	p["customer"] = map[string]string{"email": "ada@example.test", "name": "Ada 4242 4242 4242 4242"}
	f.tx(func(tx pgx.Tx) error {
		_, err := f.svc.cfg.Merchants.SetPaymentEmails(f.ctx, tx, f.merchant.ID, false)
		return err
	})
	evtID := f.record(webhook.PaymentSucceeded, p)
	f.record(webhook.PaymentRefunded, payment("pay_refunded")) // not in notify_on: no e-mail
	if n, err := f.svc.ProcessEvents(f.ctx, 100); n != 2 || err != nil {
		t.Fatalf("ProcessEvents = %d, %v; want the 2 payment events", n, err)
	}
	mails := f.emails()
	if len(mails) != 1 {
		t.Fatalf("e-mails = %+v; want the receipt only (merchant e-mails are off)", mails)
	}
	r := mails[0]
	if r.to != "ada@example.test" || r.key != "receipt:pay_01kaqv7n2tq1w4e0m8a6r3c5yb" ||
		!strings.Contains(r.subject, "$25.00") || !strings.Contains(r.body, "$25.00") ||
		!strings.Contains(r.body, "Acme Mugs") || !strings.Contains(r.body, "Visa ending in 4242") {
		t.Fatalf("receipt = %+v", r)
	}
	if strings.Contains(r.body, "4242 4242 4242 4242") || strings.Contains(r.body, "4242424242424242") {
		t.Fatalf("receipt contains a card number:\n%s", r.body)
	}

	f.tx(func(tx pgx.Tx) error {
		if _, err := f.svc.cfg.Merchants.SetPaymentEmails(f.ctx, tx, f.merchant.ID, true); err != nil {
			return err
		}
		_, err := f.hooks.Redeliver(f.ctx, tx, f.merchant.ID, evtID, "")
		return err
	})
	f.record(webhook.PaymentSucceeded, p) // the same payment reported twice
	f.record(webhook.PaymentSucceeded, payment("pay_second"))
	if n, err := f.svc.ProcessEvents(f.ctx, 100); n != 2 || err != nil {
		t.Fatalf("ProcessEvents = %d, %v; want the 2 new events", n, err)
	}
	byKey := map[string]email{}
	for _, m := range f.emails() {
		if _, dup := byKey[m.key]; dup {
			t.Fatalf("two e-mails with key %s", m.key)
		}
		byKey[m.key] = m
	}
	if len(byKey) != 4 {
		t.Fatalf("e-mails %v; want receipts for both payments and merchant e-mails for both", keys(byKey))
	}
	me := byKey["notify:payment.succeeded:pay_second:ops@acme.test"]
	if me.to != "ops@acme.test" || !strings.Contains(me.body, "$25.00") || !strings.Contains(me.body, "ada@example.test") {
		t.Fatalf("merchant e-mail = %+v", me)
	}
	if n, _ := f.svc.ProcessEvents(f.ctx, 100); n != 0 {
		t.Fatalf("a second pass processed %d events", n)
	}
}
