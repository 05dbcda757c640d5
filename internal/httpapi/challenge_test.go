package httpapi

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/paylink/paylink/internal/wire"
)

// challenge starts a challenge-card payment on l and returns the answer.
func (e *env) challenge(l wire.PaymentLink) payAnswer {
	e.t.Helper()
	res := e.pay(checkoutPath(e.t, l), cardBody("4000000000003220"), "")
	a := payAnswerOf(e.t, res)
	if res.Status != http.StatusOK || a.Payment.Status != "requires_action" || a.NextAction == nil {
		e.t.Fatalf("challenge card: %d %s", res.Status, res.Body)
	}
	return a
}

func pathOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path + "?" + u.RawQuery
}

func (e *env) answer(challengeURL, outcome, key string) response {
	e.t.Helper()
	return e.pay(pathOf(e.t, challengeURL), map[string]string{"outcome": outcome}, key)
}

func TestChallengeApproved(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mid, c := e.signUp("challenge@shop.test")
	l := e.createLink(c, map[string]any{"success_url": "https://shop.test/thanks"})
	a := e.challenge(l)
	page := e.do(req{Method: "GET", Path: pathOf(t, a.NextAction.URL)})
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), "Confirm this payment") ||
		page.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("challenge page: %d %s", page.Status, page.Body)
	}
	if n := e.count(`SELECT count(*) FROM events WHERE merchant_id = $1`, mid); n != 0 {
		t.Fatalf("%d events before the challenge was answered", n)
	}
	res := e.answer(a.NextAction.URL, "approve", "ans-1")
	done := payAnswerOf(t, res)
	if res.Status != http.StatusOK || done.Payment.Status != "succeeded" || done.Payment.ID != a.Payment.ID ||
		done.RedirectURL == nil || *done.RedirectURL != "https://shop.test/thanks" {
		t.Fatalf("approve: %d %s", res.Status, res.Body)
	}
	// Answering again (a double click, a late "fail") changes nothing.
	for _, outcome := range []string{"approve", "fail"} {
		again := payAnswerOf(t, e.answer(a.NextAction.URL, outcome, ""))
		if again.Payment.Status != "succeeded" {
			t.Fatalf("second answer %s turned the payment %s", outcome, again.Payment.Status)
		}
	}
	for typ, want := range map[string]int{"payment.succeeded": 1, "payment_link.completed": 1, "payment.failed": 0} {
		if n := e.count(`SELECT count(*) FROM events WHERE merchant_id = $1 AND type = $2`, mid, typ); n != want {
			t.Errorf("%d %s events, want %d", n, typ, want)
		}
	}
	e.wantBalance(c, "USD", 2500)
	// The challenge page of a finished payment sends the shopper to the receipt.
	after := e.do(req{Method: "GET", Path: pathOf(t, a.NextAction.URL)})
	if after.Status != http.StatusGone { // the single-use link is completed now
		t.Fatalf("challenge page after completion: %d", after.Status)
	}
	receipt := e.do(req{Method: "GET", Path: pathOf(t, done.ReceiptURL)})
	if receipt.Status != http.StatusOK || !strings.Contains(string(receipt.Body), "Payment successful") ||
		!strings.Contains(string(receipt.Body), "•••• 3220") {
		t.Fatalf("receipt: %d %s", receipt.Status, receipt.Body)
	}
}

func TestChallengeFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mid, c := e.signUp("challenge-fail@shop.test")
	l := e.createLink(c, nil)
	a := e.challenge(l)
	res := e.answer(a.NextAction.URL, "fail", "")
	done := payAnswerOf(t, res)
	if res.Status != http.StatusOK || done.Payment.Status != "failed" || done.Payment.FailureCode == nil ||
		*done.Payment.FailureCode != "authentication_failed" || done.RedirectURL != nil {
		t.Fatalf("fail: %d %s", res.Status, res.Body)
	}
	if n := e.count(`SELECT count(*) FROM events WHERE merchant_id = $1 AND type = 'payment.failed'`, mid); n != 1 {
		t.Fatalf("%d payment.failed events", n)
	}
	// The single-use link is still payable after a failed attempt.
	if res := e.pay(checkoutPath(t, l), cardBody("4242424242424242"), ""); res.Status != http.StatusOK {
		t.Fatalf("retry after a failed challenge: %d %s", res.Status, res.Body)
	}
	again := e.answer(a.NextAction.URL, "approve", "")
	if p := payAnswerOf(t, again); again.Status != http.StatusOK || p.Payment.Status != "failed" {
		t.Fatalf("approving a failed challenge later: %d %s", again.Status, again.Body)
	}
}

func TestChallengeRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, c := e.signUp("challenge-rules@shop.test")
	l := e.createLink(c, nil)
	a := e.challenge(l)
	wantError(t, e.answer(a.NextAction.URL, "maybe", ""), 400, "outcome_invalid")
	u, _ := url.Parse(a.NextAction.URL)
	q := u.Query()
	q.Set("sig", q.Get("sig")[1:]+"A")
	wantError(t, e.pay(u.Path+"?"+q.Encode(), map[string]string{"outcome": "approve"}, ""), 403, "link_signature_invalid")
	other := strings.Replace(pathOf(t, a.NextAction.URL), a.Payment.ID, "pay_01m80atb0mk066ndt4ttp8g97x", 1)
	wantError(t, e.pay(other, map[string]string{"outcome": "approve"}, ""), 404, "payment_not_found")
	// Another shopper pays the single-use link meanwhile: approving the
	// challenge now cannot pay it twice.
	if res := e.pay(checkoutPath(t, l), cardBody("4242424242424242"), ""); res.Status != http.StatusOK {
		t.Fatalf("second shopper: %d", res.Status)
	}
	wantError(t, e.answer(a.NextAction.URL, "approve", ""), http.StatusGone, "link_completed")
	e.wantBalance(c, "USD", 2500)
}

// TestChallengeRaceOnReusableLink answers one challenge from many tabs at
// once: it is decided once.
func TestChallengeAnsweredOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mid, c := e.signUp("challenge-race@shop.test")
	l := e.createLink(c, map[string]any{"single_use": false})
	a := e.challenge(l)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			outcome := "approve"
			if i%2 == 1 {
				outcome = "fail"
			}
			res := e.answer(a.NextAction.URL, outcome, fmt.Sprintf("tab-%d", i))
			if res.Status != http.StatusOK && res.errorCode() != "idempotency_key_in_use" {
				t.Errorf("answer: %d %s", res.Status, res.Body)
			}
		}()
	}
	close(start)
	wg.Wait()
	var status string
	var code sql.NullString
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT status, failure_code FROM payments WHERE id = $1`, a.Payment.ID).Scan(&status, &code); err != nil {
		t.Fatal(err)
	}
	events := e.count(`SELECT count(*) FROM events WHERE merchant_id = $1 AND type IN ('payment.succeeded', 'payment.failed')`, mid)
	if (status != "succeeded" && status != "failed") || events != 1 {
		t.Fatalf("status %s with %d outcome events; want one final outcome", status, events)
	}
	var want int64
	if status == "succeeded" {
		want = 2500
	}
	e.wantBalance(c, "USD", want)
}
