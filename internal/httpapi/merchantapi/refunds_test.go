package merchantapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

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
	apitest.WantError(t, e.Refund(c, p.ID, map[string]any{"amount": 100, "reason": "x"}), 400, "reason_invalid")
	apitest.WantError(t, e.Refund(c, p.ID, map[string]any{"amount": 100, "note": "x"}), 400, "unknown_parameter")
	if n := e.Count(`SELECT count(*) FROM refunds`); n != 0 {
		t.Fatalf("%d refunds after refused requests", n)
	}
	e.WantBalance(c, "USD", 700)
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
