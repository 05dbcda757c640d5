package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/wire"
)

// paid makes a succeeded payment of amount (USD) for c and returns it.
func (e *env) paid(c creds, amount int) wire.Payment {
	e.t.Helper()
	l := e.createLink(c, map[string]any{"amount": amount})
	res := e.pay(checkoutPath(e.t, l), cardBody("4242424242424242"), "")
	if res.Status != http.StatusOK {
		e.t.Fatalf("pay: %d %s", res.Status, res.Body)
	}
	return payAnswerOf(e.t, res).Payment
}

func (e *env) refund(c creds, payID string, body any) response {
	e.t.Helper()
	return e.do(req{Method: "POST", Path: "/v1/payments/" + payID + "/refunds", Auth: &c, Body: body})
}

func TestRefunds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mid, c := e.signUp("refunds@shop.test")
	p := e.paid(c, 2500)
	res := e.refund(c, p.ID, map[string]any{"amount": 500})
	var r wire.Refund
	res.decode(t, &r)
	if res.Status != http.StatusCreated || !strings.HasPrefix(r.ID, "re_") || r.Payment != p.ID || r.Amount != 500 || r.Status != "succeeded" {
		t.Fatalf("partial refund: %d %s", res.Status, res.Body)
	}
	wantError(t, e.refund(c, p.ID, map[string]any{"amount": 2001}), 400, "refund_exceeds_payment")
	wantError(t, e.refund(c, p.ID, map[string]any{"amount": 0}), 400, "amount_invalid")
	wantError(t, e.refund(c, p.ID, map[string]any{"amount": 1.5}), 400, "amount_invalid")
	rest := e.refund(c, p.ID, nil) // no amount: the rest
	rest.decode(t, &r)
	if rest.Status != http.StatusCreated || r.Amount != 2000 {
		t.Fatalf("refund of the rest: %d %s", rest.Status, rest.Body)
	}
	wantError(t, e.refund(c, p.ID, map[string]any{}), 400, "refund_exceeds_payment")
	var got wire.Payment
	e.do(req{Method: "GET", Path: "/v1/payments/" + p.ID, Auth: &c}).decode(t, &got)
	if got.AmountRefunded != 2500 || got.Status != "succeeded" {
		t.Fatalf("payment after refunds = %+v", got)
	}
	// Each refund told the merchant, with the payment's new amount_refunded.
	rows, err := e.db.Pool.Query(context.Background(),
		`SELECT (data->>'amount_refunded')::int FROM events WHERE merchant_id = $1 AND type = 'payment.refunded' ORDER BY id`, mid)
	if err != nil {
		t.Fatal(err)
	}
	var seen []int
	for rows.Next() {
		var n int
		_ = rows.Scan(&n)
		seen = append(seen, n)
	}
	if fmt.Sprint(seen) != "[500 2500]" {
		t.Fatalf("payment.refunded amount_refunded = %v, want [500 2500]", seen)
	}
	// The processor was asked right after commit: nothing left to send.
	if n := e.count(`SELECT count(*) FROM refunds WHERE payment_id = $1 AND sent_at IS NOT NULL AND processor_ref LIKE 'rfd_%'`, p.ID); n != 2 {
		t.Fatalf("%d refunds sent to the processor, want 2", n)
	}
	if n := e.count(`SELECT count(*) FROM pending_captures WHERE payment_id = $1`, p.ID); n != 0 {
		t.Fatal("a refunded payment was left uncaptured")
	}
	e.wantBalance(c, "USD", 0)
}

func TestOnlySucceededPaymentsRefund(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, c := e.signUp("no-refund@shop.test")
	l := e.createLink(c, map[string]any{"single_use": false})
	failed := payAnswerOf(t, e.pay(checkoutPath(t, l), cardBody("4000000000000002"), "")).Payment
	waiting := payAnswerOf(t, e.pay(checkoutPath(t, l), cardBody("4000000000003220"), "")).Payment
	wantError(t, e.refund(c, failed.ID, nil), 400, "payment_not_refundable")
	wantError(t, e.refund(c, waiting.ID, nil), 400, "payment_not_refundable")
	wantError(t, e.refund(c, "pay_nope", nil), 404, "payment_not_found")
	_, other := e.signUp("thief@shop.test")
	p := e.paid(c, 700)
	wantError(t, e.refund(other, p.ID, nil), 404, "payment_not_found")
	wantError(t, e.refund(c, p.ID, map[string]any{"amount": 100, "reason": "x"}), 400, "unknown_parameter")
	if n := e.count(`SELECT count(*) FROM refunds`); n != 0 {
		t.Fatalf("%d refunds after refused requests", n)
	}
	e.wantBalance(c, "USD", 700)
}

// TestConcurrentPartialRefundsNeverExceedThePayment fires 25 refunds of
// 300 at a 2500 payment at once: exactly 8 go through.
func TestConcurrentPartialRefundsNeverExceedThePayment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, c := e.signUp("refund-race@shop.test")
	p := e.paid(c, 2500)
	const n = 25
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		codes = make([]int, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res := e.refund(c, p.ID, map[string]any{"amount": 300})
			codes[i] = res.Status
			if res.Status != http.StatusCreated && res.errorCode() != "refund_exceeds_payment" {
				t.Errorf("refund: %d %s", res.Status, res.Body)
			}
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, s := range codes {
		if s == http.StatusCreated {
			ok++
		}
	}
	if ok != 8 {
		t.Fatalf("%d refunds of 300 succeeded on 2500, want 8", ok)
	}
	if got := e.count(`SELECT amount_refunded FROM payments WHERE id = $1`, p.ID); got != 2400 {
		t.Fatalf("amount_refunded = %d, want 2400", got)
	}
	if got := e.count(`SELECT sum(amount) FROM refunds WHERE payment_id = $1`, p.ID); got != 2400 {
		t.Fatalf("refunds sum to %d, want 2400", got)
	}
	e.wantBalance(c, "USD", 100)
}

func TestRefundIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, c := e.signUp("refund-idem@shop.test")
	p := e.paid(c, 1000)
	h := map[string]string{"Idempotency-Key": "refund-1"}
	a := e.do(req{Method: "POST", Path: "/v1/payments/" + p.ID + "/refunds", Auth: &c, Body: map[string]any{"amount": 400}, Header: h})
	b := e.do(req{Method: "POST", Path: "/v1/payments/" + p.ID + "/refunds", Auth: &c, Body: map[string]any{"amount": 400}, Header: h})
	if a.Status != 201 || string(a.Body) != string(b.Body) || b.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %s / %s", a.Body, b.Body)
	}
	if got := e.count(`SELECT amount_refunded FROM payments WHERE id = $1`, p.ID); got != 400 {
		t.Fatalf("amount_refunded = %d after a replayed refund, want 400", got)
	}
}

// TestSettleFinishesWhatACrashLeft simulates a process that died after
// committing: a refund never sent to the processor, captures still
// queued, a challenge left processing and one never answered. Settle
// finishes each, and a second run does nothing more.
func TestSettleFinishesWhatACrashLeft(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, c := e.signUp("settle@shop.test")
	p1, p2 := e.paid(c, 1000), e.paid(c, 2000)
	if n := e.count(`SELECT count(*) FROM pending_captures`); n != 2 {
		t.Fatalf("%d captures queued, want 2", n)
	}
	res := e.refund(c, p1.ID, map[string]any{"amount": 100})
	var r wire.Refund
	res.decode(t, &r)
	ctx := context.Background()
	if _, err := e.db.Pool.Exec(ctx, `UPDATE refunds SET sent_at = NULL, processor_ref = NULL WHERE id = $1`, r.ID); err != nil {
		t.Fatal(err)
	}
	l := e.createLink(c, map[string]any{"single_use": false})
	stuck := payAnswerOf(t, e.pay(checkoutPath(t, l), cardBody("4000000000003220"), "")).Payment
	abandoned := payAnswerOf(t, e.pay(checkoutPath(t, l), cardBody("4000000000003220"), "")).Payment
	if _, err := e.db.Pool.Exec(ctx, `UPDATE payments SET status = 'processing', challenge_outcome = 'approve' WHERE id = $1`, stuck.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	rep, err := e.srv.checkout.Settle(ctx, e.db)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Captured != 2 || rep.RefundsSent != 1 || rep.Resumed != 1 || rep.Canceled != 1 {
		t.Fatalf("report = %+v, want 2 captured (p2 and the resumed challenge; p1 by its refund), 1 refund, 1 resumed, 1 canceled", rep)
	}
	for id, want := range map[string]string{stuck.ID: "succeeded", abandoned.ID: "canceled", p2.ID: "succeeded"} {
		var got wire.Payment
		e.do(req{Method: "GET", Path: "/v1/payments/" + id, Auth: &c}).decode(t, &got)
		if got.Status != want {
			t.Errorf("%s = %s, want %s", id, got.Status, want)
		}
	}
	if n := e.count(`SELECT count(*) FROM pending_captures`); n != 0 {
		t.Fatalf("%d captures still queued", n)
	}
	if n := e.count(`SELECT count(*) FROM refunds WHERE sent_at IS NULL`); n != 0 {
		t.Fatal("refund still unsent")
	}
	again, err := e.srv.checkout.Settle(ctx, e.db)
	if err != nil || again != (checkout.Report{}) {
		t.Fatalf("second run = %+v, %v; want nothing to do", again, err)
	}
	e.wantBalance(c, "USD", 1000+2000+2500-100)
}
