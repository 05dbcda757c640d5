package merchantapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/wire"
)

func TestRefunds(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	mid, c := e.SignUp("refunds@shop.test")
	p := e.Paid(c, 2500)
	res := e.Refund(c, p.ID, map[string]any{"amount": 500})
	var r wire.Refund
	res.Decode(t, &r)
	if res.Status != http.StatusCreated || !strings.HasPrefix(r.ID, "re_") || r.Payment != p.ID || r.Amount != 500 || r.Status != "succeeded" {
		t.Fatalf("partial refund: %d %s", res.Status, res.Body)
	}
	apitest.WantError(t, e.Refund(c, p.ID, map[string]any{"amount": 2001}), 400, "refund_exceeds_payment")
	apitest.WantError(t, e.Refund(c, p.ID, map[string]any{"amount": 0}), 400, "amount_invalid")
	apitest.WantError(t, e.Refund(c, p.ID, map[string]any{"amount": 1.5}), 400, "amount_invalid")
	rest := e.Refund(c, p.ID, nil) // no amount: the rest
	rest.Decode(t, &r)
	if rest.Status != http.StatusCreated || r.Amount != 2000 {
		t.Fatalf("refund of the rest: %d %s", rest.Status, rest.Body)
	}
	apitest.WantError(t, e.Refund(c, p.ID, map[string]any{}), 400, "refund_exceeds_payment")
	var got wire.Payment
	e.Do(apitest.Req{Method: "GET", Path: "/v1/payments/" + p.ID, Auth: &c}).Decode(t, &got)
	if got.AmountRefunded != 2500 || got.Status != "succeeded" {
		t.Fatalf("payment after refunds = %+v", got)
	}
	// Each refund told the merchant, with the payment's new amount_refunded.
	rows, err := e.DB.Pool.Query(context.Background(),
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
	if n := e.Count(`SELECT count(*) FROM refunds WHERE payment_id = $1 AND sent_at IS NOT NULL AND processor_ref LIKE 'rfd_%'`, p.ID); n != 2 {
		t.Fatalf("%d refunds sent to the processor, want 2", n)
	}
	if n := e.Count(`SELECT count(*) FROM pending_captures WHERE payment_id = $1`, p.ID); n != 0 {
		t.Fatal("a refunded payment was left uncaptured")
	}
	e.WantBalance(c, "USD", 0)
}

func TestOnlySucceededPaymentsRefund(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("no-refund@shop.test")
	l := e.CreateLink(c, map[string]any{"single_use": false})
	failed := apitest.PayAnswerOf(t, e.Pay(apitest.CheckoutPath(t, l), apitest.CardBody("4000000000000002"), "")).Payment
	waiting := apitest.PayAnswerOf(t, e.Pay(apitest.CheckoutPath(t, l), apitest.CardBody("4000000000003220"), "")).Payment
	apitest.WantError(t, e.Refund(c, failed.ID, nil), 400, "payment_not_refundable")
	apitest.WantError(t, e.Refund(c, waiting.ID, nil), 400, "payment_not_refundable")
	apitest.WantError(t, e.Refund(c, "pay_nope", nil), 404, "payment_not_found")
	_, other := e.SignUp("thief@shop.test")
	p := e.Paid(c, 700)
	apitest.WantError(t, e.Refund(other, p.ID, nil), 404, "payment_not_found")
	apitest.WantError(t, e.Refund(c, p.ID, map[string]any{"amount": 100, "reason": "x"}), 400, "unknown_parameter")
	if n := e.Count(`SELECT count(*) FROM refunds`); n != 0 {
		t.Fatalf("%d refunds after refused requests", n)
	}
	e.WantBalance(c, "USD", 700)
}

// TestConcurrentPartialRefundsNeverExceedThePayment fires 25 refunds of
// 300 at a 2500 payment at once: exactly 8 go through.
func TestConcurrentPartialRefundsNeverExceedThePayment(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("refund-race@shop.test")
	p := e.Paid(c, 2500)
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
			res := e.Refund(c, p.ID, map[string]any{"amount": 300})
			codes[i] = res.Status
			if res.Status != http.StatusCreated && res.ErrorCode() != "refund_exceeds_payment" {
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
	if got := e.Count(`SELECT amount_refunded FROM payments WHERE id = $1`, p.ID); got != 2400 {
		t.Fatalf("amount_refunded = %d, want 2400", got)
	}
	if got := e.Count(`SELECT sum(amount) FROM refunds WHERE payment_id = $1`, p.ID); got != 2400 {
		t.Fatalf("refunds sum to %d, want 2400", got)
	}
	e.WantBalance(c, "USD", 100)
}

func TestRefundIsIdempotent(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("refund-idem@shop.test")
	p := e.Paid(c, 1000)
	h := map[string]string{"Idempotency-Key": "refund-1"}
	a := e.Do(apitest.Req{Method: "POST", Path: "/v1/payments/" + p.ID + "/refunds", Auth: &c, Body: map[string]any{"amount": 400}, Header: h})
	b := e.Do(apitest.Req{Method: "POST", Path: "/v1/payments/" + p.ID + "/refunds", Auth: &c, Body: map[string]any{"amount": 400}, Header: h})
	if a.Status != 201 || string(a.Body) != string(b.Body) || b.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %s / %s", a.Body, b.Body)
	}
	if got := e.Count(`SELECT amount_refunded FROM payments WHERE id = $1`, p.ID); got != 400 {
		t.Fatalf("amount_refunded = %d after a replayed refund, want 400", got)
	}
}

// TestSettleFinishesWhatACrashLeft simulates a process that died after
// committing: a refund never sent to the processor, captures still
// queued, a challenge left processing and one never answered. Settle
// finishes each, and a second run does nothing more.
func TestSettleFinishesWhatACrashLeft(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("settle@shop.test")
	p1, p2 := e.Paid(c, 1000), e.Paid(c, 2000)
	if n := e.Count(`SELECT count(*) FROM pending_captures`); n != 2 {
		t.Fatalf("%d captures queued, want 2", n)
	}
	res := e.Refund(c, p1.ID, map[string]any{"amount": 100})
	var r wire.Refund
	res.Decode(t, &r)
	ctx := context.Background()
	if _, err := e.DB.Pool.Exec(ctx, `UPDATE refunds SET sent_at = NULL, processor_ref = NULL WHERE id = $1`, r.ID); err != nil {
		t.Fatal(err)
	}
	l := e.CreateLink(c, map[string]any{"single_use": false})
	stuck := apitest.PayAnswerOf(t, e.Pay(apitest.CheckoutPath(t, l), apitest.CardBody("4000000000003220"), "")).Payment
	abandoned := apitest.PayAnswerOf(t, e.Pay(apitest.CheckoutPath(t, l), apitest.CardBody("4000000000003220"), "")).Payment
	if _, err := e.DB.Pool.Exec(ctx, `UPDATE payments SET status = 'processing', challenge_outcome = 'approve' WHERE id = $1`, stuck.ID); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Hour)
	rep, err := e.Deps.Checkout.Settle(ctx, e.DB)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Captured != 2 || rep.RefundsSent != 1 || rep.Resumed != 1 || rep.Canceled != 1 {
		t.Fatalf("report = %+v, want 2 captured (p2 and the resumed challenge; p1 by its refund), 1 refund, 1 resumed, 1 canceled", rep)
	}
	for id, want := range map[string]string{stuck.ID: "succeeded", abandoned.ID: "canceled", p2.ID: "succeeded"} {
		var got wire.Payment
		e.Do(apitest.Req{Method: "GET", Path: "/v1/payments/" + id, Auth: &c}).Decode(t, &got)
		if got.Status != want {
			t.Errorf("%s = %s, want %s", id, got.Status, want)
		}
	}
	if n := e.Count(`SELECT count(*) FROM pending_captures`); n != 0 {
		t.Fatalf("%d captures still queued", n)
	}
	if n := e.Count(`SELECT count(*) FROM refunds WHERE sent_at IS NULL`); n != 0 {
		t.Fatal("refund still unsent")
	}
	again, err := e.Deps.Checkout.Settle(ctx, e.DB)
	if err != nil || again != (checkout.Report{}) {
		t.Fatalf("second run = %+v, %v; want nothing to do", again, err)
	}
	e.WantBalance(c, "USD", 1000+2000+2500-100)
}
