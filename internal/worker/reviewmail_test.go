package worker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/smtpsink"
	"github.com/paylink/paylink/internal/waitfor"
	"github.com/paylink/paylink/internal/webhook"
)

// TestReviewEmailsOverSMTP: a merchant whose notify_on has review.opened
// and review.closed gets one e-mail for each over SMTP, once however often
// the events are processed; a merchant whose notify_on lacks them gets
// none for the same events.
func TestReviewEmailsOverSMTP(t *testing.T) {
	t.Parallel()
	handle, inbox := smtpsink.Chan(10)
	sink, err := smtpsink.Listen("127.0.0.1:0", handle)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	h := newHarness(t, 5*time.Second, func(d *Deps) {
		from, _ := mail.ParseAddress("Paylink <receipts@paylink.test>")
		d.Mail = notify.NewSender(d.DB, notify.SMTP{Host: "127.0.0.1", Port: sink.Addr().Port, From: from, Timeout: 10 * time.Second}, time.Now)
	})
	keyring, _ := seal.Parse(testKeys)
	merchants := merchant.NewService(keyring, merchant.NewUsage(), time.Now)
	var other *merchant.Merchant
	h.tx(func(tx pgx.Tx) (err error) {
		on := []string{webhook.ReviewOpened, webhook.ReviewClosed}
		if _, err := merchants.Update(h.ctx, tx, h.merchant.ID, merchant.Update{NotifyOn: &on}); err != nil {
			return err
		}
		su := merchant.SignUp{Name: "Quiet Teas", Email: "ops@quiet.test", Password: "correct horse battery"}
		if other, _, err = merchants.SignUp(h.ctx, tx, su, "not-a-real-hash"); err != nil {
			return err
		}
		off := []string{webhook.PaymentFailed}
		_, err = merchants.Update(h.ctx, tx, other.ID, merchant.Update{NotifyOn: &off})
		return err
	})
	h.run(h.newWorker())
	for _, m := range []*merchant.Merchant{h.merchant, other} {
		reviewAndApprove(h, m.ID, "pay_"+m.ID, "rev_"+m.ID)
	}
	settled := func(ctx context.Context) error {
		var unnotified, unsent int
		if err := h.db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM events WHERE notified_at IS NULL),
			(SELECT count(*) FROM emails WHERE sent_at IS NULL AND failed_at IS NULL)`).Scan(&unnotified, &unsent); err != nil {
			return err
		}
		if unnotified+unsent > 0 {
			return fmt.Errorf("%d events not processed, %d e-mails not sent", unnotified, unsent)
		}
		return nil
	}
	waitfor.Until(t, waitLimit, "events processed and e-mails sent", settled)
	// A batch whose mark was lost runs again: nothing more is sent.
	if _, err := h.db.Pool.Exec(h.ctx, `UPDATE events SET notified_at = NULL`); err != nil {
		t.Fatal(err)
	}
	waitfor.Until(t, waitLimit, "events processed again", settled)

	bySubject := map[string]string{}
	for len(inbox) > 0 {
		m := <-inbox
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		if m.To[0] == "ada@example.test" {
			continue // the shopper's receipt
		}
		body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
		subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if _, dup := bySubject[subject]; dup || m.To[0] != "ops@acme.test" {
			t.Fatalf("e-mail %q to %v (after %v); want one e-mail per review event, to ops@acme.test only", subject, m.To, bySubject)
		}
		bySubject[subject] = string(body)
	}
	opened := bySubject["Payment to review: $25.00 (pay_"+h.merchant.ID+")"]
	closed := bySubject["Review closed (approved): $25.00 (pay_"+h.merchant.ID+")"]
	if len(bySubject) != 2 || !strings.Contains(opened, "held for your review because its risk score, 70 of 99, is elevated") ||
		!strings.Contains(closed, "You approved the payment of $25.00") {
		t.Fatalf("e-mails received: %v; want the opening and the approval of %s's review", bySubject, h.merchant.Name)
	}
}

// reviewAndApprove records, as checkout and an approval do, payment payID
// of merchantID held for review revID (payment.succeeded and
// review.opened in one transaction), then the review's approval
// (review.closed).
func reviewAndApprove(h *harness, merchantID, payID, revID string) {
	h.t.Helper()
	p := map[string]any{"id": payID, "amount": 2500, "currency": "USD", "status": "succeeded", "amount_refunded": 0,
		"payment_method": map[string]string{"type": "card", "brand": "visa", "last4": "4242"},
		"customer":       map[string]string{"email": "ada@example.test", "name": "Ada Shopper"},
		"created_at":     "2026-01-02T03:04:05Z", "review": revID,
		"risk": map[string]any{"score": 70, "level": "elevated", "outcome": "review", "reasons": []string{"amount_anomaly"}, "rule": nil}}
	rev := map[string]any{"id": revID, "payment": payID, "status": "open", "reason": "elevated_risk", "closed_reason": nil}
	h.tx(func(tx pgx.Tx) error {
		if _, err := webhook.Record(h.ctx, tx, merchantID, webhook.PaymentSucceeded, p, time.Now()); err != nil {
			return err
		}
		_, err := webhook.Record(h.ctx, tx, merchantID, webhook.ReviewOpened, rev, time.Now())
		return err
	})
	rev["status"], rev["closed_reason"] = "closed", "approved"
	h.tx(func(tx pgx.Tx) error {
		_, err := webhook.Record(h.ctx, tx, merchantID, webhook.ReviewClosed, rev, time.Now())
		return err
	})
}
