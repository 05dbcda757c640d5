package checkout_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/checkout/settle"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/redistest"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/testclock"
)

// fixture is one merchant on a database of the test's own, with the
// checkout, its links and the card simulator.
type fixture struct {
	t        *testing.T
	ctx      context.Context
	db       *postgres.DB
	clock    *testclock.Offset
	links    *links.Service
	checkout *checkout.Service
	merchant *merchant.Merchant
	attempts int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), db: pgtest.New(t), clock: &testclock.Offset{}}
	rdb, _ := redistest.New(t)
	signer, err := links.NewSigner([]links.SigningKey{{ID: "t1", Secret: bytes.Repeat([]byte{0x5a}, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("http://paylink.test")
	f.links = links.NewService(signer, base, f.clock.Now)
	f.checkout = checkout.NewService(processor.NewSimulator(bytes.Repeat([]byte{0x3c}, 32), processor.NewRedisKeys(rdb), f.clock.Now), f.links, f.clock.Now)
	keyring, err := seal.Parse("1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	merchants := merchant.NewService(keyring, merchant.NewUsage(), f.clock.Now)
	f.tx(func(tx pgx.Tx) (err error) {
		f.merchant, _, err = merchants.SignUp(f.ctx, tx, merchant.SignUp{Name: "Tea House", Email: "owner@tea.test"}, "hash")
		return err
	})
	return f
}

// tx runs fn in a transaction and fails the test on an error.
func (f *fixture) tx(fn func(pgx.Tx) error) {
	f.t.Helper()
	if err := f.db.WithTx(f.ctx, fn); err != nil {
		f.t.Fatal(err)
	}
}

// link creates a USD link of amount.
func (f *fixture) link(amount int64, singleUse bool) *links.Link {
	f.t.Helper()
	var l *links.Link
	f.tx(func(tx pgx.Tx) (err error) {
		l, err = f.links.Create(f.ctx, tx, f.merchant.ID, links.NewLink{Amount: money.Amount{Minor: amount, Currency: money.USD},
			Description: "Sencha", SingleUse: singleUse})
		return err
	})
	return l
}

// authorize authorizes l's amount on card number, as an attempt of its own.
func (f *fixture) authorize(l *links.Link, number string) checkout.Authorization {
	f.t.Helper()
	f.attempts++
	a, err := f.checkout.AuthorizeAccepted(f.ctx, l.Accepts, l.Amount, fmt.Sprintf("attempt-%d", f.attempts),
		processor.Card{Number: number, ExpMonth: 12, ExpYear: 2040, CVC: "123"})
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

var shopper = checkout.Customer{Email: "ada@example.test", Name: "Ada Shopper"}

// record records authorization a on l in its own transaction.
func (f *fixture) record(l *links.Link, a checkout.Authorization) (*checkout.Payment, error) {
	var p *checkout.Payment
	err := f.db.WithTx(f.ctx, func(tx pgx.Tx) (err error) {
		p, err = f.checkout.Record(f.ctx, tx, tx, l, shopper, a)
		return err
	})
	return p, err
}

// paid is a succeeded card payment of amount on a link of its own.
func (f *fixture) paid(amount int64) *checkout.Payment {
	f.t.Helper()
	l := f.link(amount, true)
	p, err := f.record(l, f.authorize(l, "4242424242424242"))
	if err != nil || p.Status != checkout.Succeeded {
		f.t.Fatalf("pay: %+v, %v", p, err)
	}
	return p
}

func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.Pool.QueryRow(f.ctx, query, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// wantBalance fails unless the merchant's USD balance is want and the
// ledger verifies.
func (f *fixture) wantBalance(want int64) {
	f.t.Helper()
	b, err := f.checkout.Balance(f.ctx, f.db.Pool, f.merchant.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	var got int64
	for _, m := range b.Available {
		if m.Currency == "USD" {
			got = m.Amount
		}
	}
	if got != want {
		f.t.Errorf("balance = %d, want %d", got, want)
	}
	rep, err := ledger.Verify(f.ctx, f.db.Pool)
	if err != nil || !rep.OK() {
		f.t.Fatalf("ledger.Verify = %+v, %v", rep, err)
	}
}

// TestSingleUseLinkIsPaidOnceUnderConcurrency records 20 authorized cards
// on one single-use link at the same moment: exactly one becomes a
// payment, the others find the link completed, and one of everything a
// payment brings is written.
func TestSingleUseLinkIsPaidOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.link(1999, true)
	const shoppers = 20
	auths := make([]checkout.Authorization, shoppers)
	for i := range auths {
		auths[i] = f.authorize(l, "4242424242424242")
	}
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, shoppers)
	)
	for i := range shoppers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = f.record(l, auths[i])
		}()
	}
	close(start)
	wg.Wait()
	paid := 0
	for _, err := range errs {
		switch {
		case err == nil:
			paid++
		case !errors.Is(err, links.ErrCompleted):
			t.Errorf("Record: %v; want nil or links.ErrCompleted", err)
		}
	}
	if paid != 1 {
		t.Fatalf("%d payments recorded on a single-use link, want exactly 1", paid)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM payments WHERE payment_link_id = $1`:                                                    1,
		`SELECT count(*) FROM payments WHERE payment_link_id = $1 AND status = 'succeeded'`:                           1,
		`SELECT count(*) FROM pending_captures c JOIN payments p ON p.id = c.payment_id WHERE p.payment_link_id = $1`: 1,
		`SELECT count(*) FROM payment_links WHERE id = $1 AND status = 'completed'`:                                   1,
		`SELECT count(*) FROM events WHERE type = 'payment_link.completed' AND data->>'id' = $1`:                      1,
		`SELECT count(*) FROM events WHERE type = 'payment.succeeded' AND data->>'payment_link' = $1`:                 1,
	} {
		if n := f.count(q, l.ID); n != want {
			t.Errorf("%s = %d, want %d", q, n, want)
		}
	}
	f.wantBalance(1999)
	// The link is closed for good: a later attempt finds it completed.
	if _, err := f.record(l, f.authorize(l, "5555555555554444")); !errors.Is(err, links.ErrCompleted) {
		t.Fatalf("a payment after completion: %v, want links.ErrCompleted", err)
	}
}

// TestReusableLinkAndDeclines: a reusable link takes many payments; a
// decline is recorded as a failed payment that moves no money.
func TestReusableLinkAndDeclines(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.link(700, false)
	for range 3 {
		if p, err := f.record(l, f.authorize(l, "4242424242424242")); err != nil || p.Status != checkout.Succeeded {
			t.Fatalf("pay a reusable link: %+v, %v", p, err)
		}
	}
	p, err := f.record(l, f.authorize(l, "4000000000009995"))
	if err != nil || p.Status != checkout.Failed || p.FailureCode != "insufficient_funds" {
		t.Fatalf("declined card: %+v, %v; want a failed payment with insufficient_funds", p, err)
	}
	if n := f.count(`SELECT count(*) FROM events WHERE type = 'payment.failed'`); n != 1 {
		t.Errorf("%d payment.failed events, want 1", n)
	}
	f.wantBalance(2100)
}

// TestRefundsNeverExceedThePayment fires 25 refunds of 300 at a 2500
// payment at once: exactly 8 go through; then the refund rules one by one.
func TestRefundsNeverExceedThePayment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.paid(2500)
	refund := func(payID string, amount *int64) (*checkout.Refund, error) {
		var r *checkout.Refund
		err := f.db.WithTx(f.ctx, func(tx pgx.Tx) (err error) {
			r, _, err = f.checkout.Refund(f.ctx, tx, f.merchant.ID, payID, amount)
			return err
		})
		return r, err
	}
	const n = 25
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = refund(p.ID, new(int64(300)))
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, checkout.ErrRefundExceeds):
			t.Errorf("Refund: %v; want nil or ErrRefundExceeds", err)
		}
	}
	if ok != 8 {
		t.Fatalf("%d refunds of 300 went through on 2500, want 8", ok)
	}
	if got := f.count(`SELECT amount_refunded FROM payments WHERE id = $1`, p.ID); got != 2400 {
		t.Fatalf("amount_refunded = %d, want 2400", got)
	}
	if got := f.count(`SELECT sum(amount) FROM refunds WHERE payment_id = $1`, p.ID); got != 2400 {
		t.Fatalf("refunds sum to %d, want 2400", got)
	}
	f.wantBalance(100)

	// What is left, and no more.
	// The refusal says how much is left, so the merchant knows what to send.
	if _, err := refund(p.ID, new(int64(101))); !errors.Is(err, checkout.ErrRefundExceeds) ||
		!strings.Contains(refusal(err), "more than the $1.00 left") {
		t.Errorf("101 of 100 left: %v (%q), want ErrRefundExceeds saying $1.00 is left", err, refusal(err))
	}
	if _, err := refund(p.ID, new(int64(0))); !errors.Is(err, money.ErrAmountInvalid) {
		t.Errorf("a refund of 0: %v, want money.ErrAmountInvalid", err)
	}
	if r, err := refund(p.ID, nil); err != nil || r.Amount.Minor != 100 {
		t.Errorf("the rest: %+v, %v; want a refund of 100", r, err)
	}
	if _, err := refund(p.ID, nil); !errors.Is(err, checkout.ErrRefundExceeds) || !strings.Contains(refusal(err), "the $0.00 left") {
		t.Errorf("the rest of nothing: %v (%q), want ErrRefundExceeds saying $0.00 is left", err, refusal(err))
	}
	if _, err := refund(p.ID, new(int64(1))); !errors.Is(err, checkout.ErrRefundExceeds) || !strings.Contains(refusal(err), "the $0.00 left") {
		t.Errorf("1 of nothing: %v (%q), want ErrRefundExceeds saying $0.00 is left", err, refusal(err))
	}
	// Only succeeded payments refund, and only the merchant's own.
	l := f.link(500, false)
	failed, err := f.record(l, f.authorize(l, "4000000000000002"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refund(failed.ID, nil); !errors.Is(err, checkout.ErrNotRefundable) {
		t.Errorf("refund of a failed payment: %v, want ErrNotRefundable", err)
	}
	if _, err := refund("pay_nope", nil); !errors.Is(err, checkout.ErrNotFound) {
		t.Errorf("refund of an unknown payment: %v, want ErrNotFound", err)
	}
	f.wantBalance(0)
	if n := f.count(`SELECT count(*) FROM events WHERE type = 'payment.refunded'`); n != 9 {
		t.Errorf("%d payment.refunded events, want one per refund (9)", n)
	}
	if n := f.count(`SELECT count(DISTINCT data->>'id') FROM events WHERE type = 'refund.succeeded' AND data->>'payment' = $1`, p.ID); n != 9 {
		t.Errorf("%d refund.succeeded events of distinct refunds, want one per refund (9)", n)
	}
}

// challenged is a payment of l with the challenge card, waiting for its
// answer.
func (f *fixture) challenged(l *links.Link) *checkout.Payment {
	f.t.Helper()
	p, err := f.record(l, f.authorize(l, "4000000000003220"))
	if err != nil || p.Status != checkout.RequiresAction {
		f.t.Fatalf("challenge card: %+v, %v", p, err)
	}
	return p
}

// answer claims p with outcome, asks the processor and finishes it.
func (f *fixture) answer(p *checkout.Payment, outcome string) *checkout.Payment {
	f.t.Helper()
	p, err := f.checkout.Claim(f.ctx, f.db, p, outcome)
	if err != nil || p.Status != checkout.Processing {
		f.t.Fatalf("Claim: %+v, %v", p, err)
	}
	a, err := f.checkout.Authenticate(f.ctx, p)
	if err != nil {
		f.t.Fatal(err)
	}
	var final *checkout.Payment
	f.tx(func(tx pgx.Tx) (err error) {
		final, err = f.checkout.Finish(f.ctx, tx, f.merchant.ID, p.ID, a)
		return err
	})
	return final
}

// TestChallengeCompletion: an approved challenge succeeds and completes
// its single-use link; a failed one moves nothing; an approval after
// someone else paid the link cancels; a claimed payment is not claimed
// again, and finishing twice changes nothing.
func TestChallengeCompletion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	approved := f.answer(f.challenged(f.link(1000, true)), "approve")
	if approved.Status != checkout.Succeeded {
		t.Fatalf("approved challenge = %s, want succeeded", approved.Status)
	}
	if n := f.count(`SELECT count(*) FROM payment_links WHERE id = $1 AND status = 'completed'`, approved.LinkID); n != 1 {
		t.Error("an approved challenge did not complete its single-use link")
	}
	if failed := f.answer(f.challenged(f.link(1000, true)), "fail"); failed.Status != checkout.Failed {
		t.Fatalf("failed challenge = %s, want failed", failed.Status)
	}
	l := f.link(1000, true)
	late := f.challenged(l)
	if _, err := f.record(l, f.authorize(l, "4242424242424242")); err != nil {
		t.Fatal(err)
	}
	if canceled := f.answer(late, "approve"); canceled.Status != checkout.Canceled {
		t.Fatalf("approval after the link was paid = %s, want canceled", canceled.Status)
	}
	again, err := f.checkout.Claim(f.ctx, f.db, late, "approve")
	if err != nil || again.Status != checkout.Canceled {
		t.Fatalf("claiming a finished payment: %+v, %v; want it answered as it is", again, err)
	}
	f.wantBalance(2000)
	if n := f.count(`SELECT count(*) FROM pending_captures`); n != 2 {
		t.Errorf("%d captures queued, want 2 (the approved challenge and the card payment)", n)
	}
}

// TestSettleFinishesWhatACrashLeft simulates a process that died after
// committing: a refund never sent to the processor, captures still
// queued, a challenge left processing and one never answered. A settle
// run finishes each, and a second run does nothing more.
func TestSettleFinishesWhatACrashLeft(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p1, p2 := f.paid(1000), f.paid(2000)
	if n := f.count(`SELECT count(*) FROM pending_captures`); n != 2 {
		t.Fatalf("%d captures queued, want 2", n)
	}
	var r *checkout.Refund
	f.tx(func(tx pgx.Tx) (err error) {
		r, _, err = f.checkout.Refund(f.ctx, tx, f.merchant.ID, p1.ID, new(int64(100)))
		return err
	}) // and the process died before SendRefund
	l := f.link(2500, false)
	stuck, abandoned := f.challenged(l), f.challenged(l)
	if _, err := f.db.Pool.Exec(f.ctx, `UPDATE payments SET status = 'processing', challenge_outcome = 'approve' WHERE id = $1`, stuck.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	settler := settle.New(f.checkout, f.clock.Now)
	rep, err := settler.Run(f.ctx, f.db)
	if err != nil {
		t.Fatal(err)
	}
	if want := (settle.Report{Captured: 3, RefundsSent: 1, Resumed: 1, Canceled: 1}); rep != want {
		t.Fatalf("report = %+v, want %+v (p1, p2 and the resumed challenge captured)", rep, want)
	}
	for id, want := range map[string]checkout.Status{stuck.ID: checkout.Succeeded, abandoned.ID: checkout.Canceled, p2.ID: checkout.Succeeded} {
		if p, err := f.checkout.Get(f.ctx, f.db.Pool, f.merchant.ID, id); err != nil || p.Status != want {
			t.Errorf("%s = %+v, %v; want %s", id, p, err, want)
		}
	}
	if n := f.count(`SELECT count(*) FROM refunds WHERE id = $1 AND sent_at IS NOT NULL`, r.ID); n != 1 {
		t.Error("the refund is still unsent")
	}
	if n := f.count(`SELECT count(*) FROM events WHERE type = 'payment.canceled' AND data->>'id' = $1 AND data->>'status' = 'canceled'`, abandoned.ID); n != 1 {
		t.Errorf("%d payment.canceled events of the abandoned challenge, want 1", n)
	}
	again, err := settler.Run(f.ctx, f.db)
	if err != nil || again != (settle.Report{}) {
		t.Fatalf("second run = %+v, %v; want nothing to do", again, err)
	}
	f.wantBalance(1000 + 2000 + 2500 - 100)
}

// refusal is the message an error would show the merchant, or "" when it
// is not an API error.
func refusal(err error) string {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}
