package eventmail

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/webhook"
)

// reviewed records, as checkout does, a payment held for review: its
// payment.succeeded (with its risk and review) and review.opened in one
// transaction. It returns the review and the payment.
func (f *fixture) reviewed(payID, revID string, score int, reasons []string, rule any) (rev, p map[string]any) {
	f.t.Helper()
	p = payment(payID)
	p["risk"] = map[string]any{"score": score, "level": "elevated", "outcome": "review", "reasons": reasons, "rule": rule}
	p["review"] = revID
	reason := "elevated_risk"
	if rule != nil {
		reason = "rule"
	}
	rev = map[string]any{"id": revID, "payment": payID, "status": "open", "reason": reason, "closed_reason": nil,
		"created_at": "2026-01-02T03:04:05Z", "closed_at": nil}
	f.tx(func(tx pgx.Tx) error {
		if _, err := webhook.Record(f.ctx, tx, f.merchant.ID, webhook.PaymentSucceeded, p, f.clock.Now()); err != nil {
			return err
		}
		_, err := webhook.Record(f.ctx, tx, f.merchant.ID, webhook.ReviewOpened, rev, f.clock.Now())
		return err
	})
	f.clock.Advance(time.Second)
	return rev, p
}

// closeReview records review.closed for rev of payment p as closedReason
// says: alone for an approval, with the payment's full refund
// (payment.refunded) in one transaction for a refund.
func (f *fixture) closeReview(rev, p map[string]any, closedReason string) {
	f.t.Helper()
	closed := map[string]any{}
	for k, v := range rev {
		closed[k] = v
	}
	closed["status"], closed["closed_reason"], closed["closed_at"] = "closed", closedReason, "2026-01-03T03:04:05Z"
	f.tx(func(tx pgx.Tx) error {
		if closedReason == "refunded" {
			refunded := map[string]any{}
			for k, v := range p {
				refunded[k] = v
			}
			refunded["amount_refunded"] = 2500
			if _, err := webhook.Record(f.ctx, tx, f.merchant.ID, webhook.PaymentRefunded, refunded, f.clock.Now()); err != nil {
				return err
			}
		}
		_, err := webhook.Record(f.ctx, tx, f.merchant.ID, webhook.ReviewClosed, closed, f.clock.Now())
		return err
	})
	f.clock.Advance(time.Second)
}

// TestReviewEmailsFollowNotifyOn: review.opened and review.closed e-mail
// the merchant's notification address exactly when their type is in
// notify_on, once per event however often the events are processed or
// redelivered, and say which payment, its amount, why it was held, how
// the review ended, with links to the dashboard.
func TestReviewEmailsFollowNotifyOn(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("https://paylink.example")
	f := newFixture(t, func(c *Config) { c.BaseURL = base })
	notifyOn := func(events ...string) {
		f.tx(func(tx pgx.Tx) error {
			_, err := f.svc.cfg.Merchants.Update(f.ctx, tx, f.merchant.ID, merchant.Update{NotifyOn: &events})
			return err
		})
	}
	process := func() {
		t.Helper()
		if _, err := f.svc.ProcessEvents(f.ctx, 100); err != nil {
			t.Fatal(err)
		}
	}
	reviewMails := func() map[string]email {
		t.Helper()
		out := map[string]email{}
		for _, m := range f.emails() {
			if strings.HasPrefix(m.key, "notify:review.") {
				if _, dup := out[m.key]; dup {
					t.Fatalf("two e-mails with key %s", m.key)
				}
				out[m.key] = m
			}
		}
		return out
	}

	// Default notify_on (payment.succeeded only): no review e-mail.
	quiet, quietPay := f.reviewed("pay_quiet", "rev_quiet", 70, []string{"amount_anomaly"}, nil)
	f.closeReview(quiet, quietPay, "approved")
	process()
	if got := reviewMails(); len(got) != 0 {
		t.Fatalf("review e-mails without review.* in notify_on: %v", keys(got))
	}

	// Only review.opened: the opening is mailed, not the closing.
	notifyOn(webhook.ReviewOpened)
	ruled, ruledPay := f.reviewed("pay_ruled", "rev_ruled", 40, []string{"rr_01kbigspender", "new_customer"}, "rr_01kbigspender")
	f.closeReview(ruled, ruledPay, "approved")
	process()
	if got := reviewMails(); len(got) != 1 || got["notify:review.opened:rev_ruled:ops@acme.test"].to != "ops@acme.test" {
		t.Fatalf("review e-mails with notify_on [review.opened]: %v", keys(got))
	}

	// Both: one e-mail per event, whatever happens to the events later.
	notifyOn(webhook.ReviewOpened, webhook.ReviewClosed)
	risky, riskyPay := f.reviewed("pay_risky", "rev_risky", 70, []string{"amount_anomaly", "card_velocity"}, nil)
	f.closeReview(risky, riskyPay, "refunded")
	process()
	// A batch whose mark was lost runs again.
	if _, err := f.db.Pool.Exec(f.ctx, `UPDATE events SET notified_at = NULL WHERE data->>'id' IN ('pay_risky', 'rev_risky')`); err != nil {
		t.Fatal(err)
	}
	process()
	var evt string
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT id FROM events WHERE type = 'review.closed' AND data->>'id' = 'rev_risky'`).Scan(&evt); err != nil {
		t.Fatal(err)
	}
	f.tx(func(tx pgx.Tx) error { _, err := f.hooks.Redeliver(f.ctx, tx, f.merchant.ID, evt, ""); return err })
	process()
	got := reviewMails()
	if len(got) != 3 {
		t.Fatalf("review e-mails %v; want rev_ruled's opening, rev_risky's opening and closing", keys(got))
	}
	for key, want := range map[string][]string{
		"notify:review.opened:rev_ruled:ops@acme.test": {"Payment to review: $25.00 (pay_ruled)",
			"because your risk rule rr_01kbigspender matched it", "What screening saw:\n  - First payment from this customer.\n",
			"Open reviews: https://paylink.example/dashboard/reviews",
			"The payment:  https://paylink.example/dashboard/payments/pay_ruled", "notify_on includes review.opened"},
		"notify:review.opened:rev_risky:ops@acme.test": {"Payment to review: $25.00 (pay_risky)",
			"because its risk score, 70 of 99, is elevated", "Risk score:   70 of 99 (elevated)",
			"  - The amount is far above your usual payments in this currency.\n  - This card was tried many times within an hour.\n", "Ada Shopper <ada@example.test>", "Visa ending in 4242", "rev_risky"},
		"notify:review.closed:rev_risky:ops@acme.test": {"Review closed (refunded): $25.00 (pay_risky)",
			"refunded in full ($25.00)", "It was held because its risk score, 70 of 99, is elevated",
			"The payment:  https://paylink.example/dashboard/payments/pay_risky", "notify_on includes review.closed"},
	} {
		m, ok := got[key]
		if !ok {
			t.Fatalf("no e-mail %s among %v", key, keys(got))
		}
		for _, w := range want {
			if !strings.Contains(m.subject+"\n"+m.body, w) {
				t.Errorf("%s lacks %q:\n%s\n%s", key, w, m.subject, m.body)
			}
		}
		if strings.Contains(m.body, "4242424242424242") || strings.Contains(m.body, "whsec_") {
			t.Errorf("%s shows a secret:\n%s", key, m.body)
		}
	}
	if closed := got["notify:review.closed:rev_risky:ops@acme.test"]; strings.Contains(closed.body, "Open reviews:") {
		t.Errorf("a closed review's e-mail points to the open reviews:\n%s", closed.body)
	}
}
