package hostedcheckout_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/checkout/settle"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/wire"
)

// TestConcurrentFormSubmissions: many shoppers submit one form at the same
// moment through two replicas, and some retry the same attempt at once;
// every distinct attempt is charged exactly once and the books balance.
func TestConcurrentFormSubmissions(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("form-rush@shop.test")
	r2 := e.Replica()
	f := e.CreateForm(c, map[string]any{"amount_min": 100, "amount_max": 100000})
	path := embedURL(f.ID, apitest.ShopOrigin)
	const shoppers, retries = 30, 10
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		res   = make([]apitest.Response, shoppers+retries)
	)
	for i := range shoppers + retries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			srv := e
			if i%2 == 1 {
				srv = r2
			}
			key, amount := fmt.Sprintf("shopper-%d", i), 100+i
			if i >= shoppers { // one attempt sent ten times at once
				key, amount = "double-click", 777
			}
			res[i] = srv.Pay(path, formBody("4242424242424242", map[string]any{"amount": amount}), key)
		}()
	}
	close(start)
	wg.Wait()
	want := int64(0)
	for i, r := range res {
		switch {
		case r.Status == http.StatusOK && i < shoppers:
			want += int64(100 + i)
		case r.Status == http.StatusOK, r.Status == http.StatusConflict && r.ErrorCode() == "idempotency_key_in_use":
		default:
			t.Errorf("shopper %d: %d %s", i, r.Status, r.Body)
		}
	}
	want += 777
	if n := e.Count(`SELECT count(*) FROM payments WHERE payment_form_id = $1 AND status = 'succeeded'`, f.ID); n != shoppers+1 {
		t.Fatalf("%d succeeded payments, want %d (each attempt once)", n, shoppers+1)
	}
	if n := e.Count(`SELECT count(*) FROM payments WHERE amount = 777`); n != 1 {
		t.Fatalf("the double-clicked attempt made %d payments", n)
	}
	e.WantBalance(c, "USD", want)
	verifyLedger(t, e)
}

// TestSettleCancelsChallengesWhoseFormOrReferenceWentAway: a challenge
// approved and claimed, whose request died before finishing, is finished
// by the settle sweep: canceled (and voided) if its form was turned off or
// its reference paid by someone else meanwhile, succeeded otherwise.
func TestSettleCancelsChallengesWhoseFormOrReferenceWentAway(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("settle-forms@shop.test")
	ctx := context.Background()
	off := e.CreateForm(c, nil)
	on := e.CreateForm(c, nil)
	challenge := func(path string) wire.Payment {
		t.Helper()
		res := e.Pay(path, apitest.CardBody("4000000000003220"), "")
		a := apitest.PayAnswerOf(t, res)
		if a.Payment.Status != "requires_action" {
			t.Fatalf("challenge: %d %s", res.Status, res.Body)
		}
		return a.Payment
	}
	offPay := challenge(embedURL(off.ID, apitest.ShopOrigin))
	onPay := challenge(embedURL(on.ID, apitest.ShopOrigin))
	signed := e.SignedPath(c, map[string]string{"ref": "race"})
	loser := challenge(signed)
	winner := challenge(signed)
	for _, p := range []wire.Payment{offPay, onPay, loser} {
		if _, err := e.DB.Pool.Exec(ctx, `UPDATE payments SET status = 'processing', challenge_outcome = 'approve' WHERE id = $1`, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_forms/" + off.ID + "/deactivate", Auth: &c})
	winnerChallenge := strings.Replace(signed, "/pay/s?", "/pay/s/payments/"+winner.ID+"/challenge?", 1)
	if r := e.Pay(winnerChallenge, map[string]string{"outcome": "approve"}, ""); r.Status != 200 || apitest.PayAnswerOf(t, r).Payment.Status != "succeeded" {
		t.Fatalf("winner: %d %s", r.Status, r.Body)
	}
	e.Clock.Advance(time.Hour)
	rep, err := settle.New(e.Deps.Checkout, e.Clock.Now).Run(ctx, e.DB)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Resumed != 3 {
		t.Fatalf("report = %+v, want 3 resumed", rep)
	}
	for id, want := range map[string]string{offPay.ID: "canceled", onPay.ID: "succeeded", loser.ID: "canceled", winner.ID: "succeeded"} {
		var got wire.Payment
		e.Do(apitest.Req{Method: "GET", Path: "/v1/payments/" + id, Auth: &c}).Decode(t, &got)
		if got.Status != want {
			t.Errorf("%s = %s, want %s", id, got.Status, want)
		}
	}
	e.WantBalance(c, "USD", 2500+2500)
	verifyLedger(t, e)
}
