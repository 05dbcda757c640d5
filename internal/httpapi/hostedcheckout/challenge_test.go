package hostedcheckout_test

import (
	"context"
	"database/sql"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/returnurl"
)

func TestChallengeApproved(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	mid, c := e.SignUp("challenge@shop.test")
	l := e.CreateLink(c, map[string]any{"success_url": "https://shop.test/thanks"})
	a := e.Challenge(l)
	page := e.Do(apitest.Req{Method: "GET", Path: apitest.PathOf(t, a.NextAction.URL)})
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), "Confirm this payment") ||
		page.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("challenge page: %d %s", page.Status, page.Body)
	}
	// Waiting for the shopper is an event of its own, the only one so far.
	if n := e.Count(`SELECT count(*) FROM events WHERE merchant_id = $1 AND type = 'payment.requires_action' AND data->>'id' = $2`, mid, a.Payment.ID); n != 1 {
		t.Fatalf("%d payment.requires_action events before the challenge was answered", n)
	}
	if n := e.Count(`SELECT count(*) FROM events WHERE merchant_id = $1`, mid); n != 1 {
		t.Fatalf("%d events before the challenge was answered", n)
	}
	res := e.Answer(a.NextAction.URL, "approve", "ans-1")
	done := apitest.PayAnswerOf(t, res)
	if res.Status != http.StatusOK || done.Payment.Status != "succeeded" || done.Payment.ID != a.Payment.ID ||
		done.RedirectURL == nil {
		t.Fatalf("approve: %d %s", res.Status, res.Body)
	}
	e.WantSignedReturn(*done.RedirectURL, "https://shop.test/thanks", returnurl.Return{Payment: done.Payment.ID, Status: "succeeded", Source: l.ID})
	// Answering again (a double click, a late "fail") changes nothing.
	for _, outcome := range []string{"approve", "fail"} {
		again := apitest.PayAnswerOf(t, e.Answer(a.NextAction.URL, outcome, ""))
		if again.Payment.Status != "succeeded" {
			t.Fatalf("second answer %s turned the payment %s", outcome, again.Payment.Status)
		}
	}
	for typ, want := range map[string]int{"payment.succeeded": 1, "payment_link.completed": 1, "payment.failed": 0} {
		if n := e.Count(`SELECT count(*) FROM events WHERE merchant_id = $1 AND type = $2`, mid, typ); n != want {
			t.Errorf("%d %s events, want %d", n, typ, want)
		}
	}
	e.WantBalance(c, "USD", 2500)
	// The challenge page of a finished payment sends the shopper to the receipt.
	after := e.Do(apitest.Req{Method: "GET", Path: apitest.PathOf(t, a.NextAction.URL)})
	if after.Status != http.StatusGone { // the single-use link is completed now
		t.Fatalf("challenge page after completion: %d", after.Status)
	}
	receipt := e.Do(apitest.Req{Method: "GET", Path: apitest.PathOf(t, done.ReceiptURL)})
	if receipt.Status != http.StatusOK || !strings.Contains(string(receipt.Body), "Payment successful") ||
		!strings.Contains(string(receipt.Body), "•••• 3220") {
		t.Fatalf("receipt: %d %s", receipt.Status, receipt.Body)
	}
}

// TestFailedChallengeReturnsToCancelURL: a failed challenge sends the
// shopper back to the link's cancel_url with a signed return saying so.
func TestFailedChallengeReturnsToCancelURL(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("challenge-cancel@shop.test")
	l := e.CreateLink(c, map[string]any{"success_url": "https://shop.test/thanks", "cancel_url": "https://shop.test/cart?step=pay"})
	a := e.Challenge(l)
	done := apitest.PayAnswerOf(t, e.Answer(a.NextAction.URL, "fail", ""))
	if done.Payment.Status != "failed" || done.RedirectURL == nil {
		t.Fatalf("fail: %+v", done)
	}
	e.WantSignedReturn(*done.RedirectURL, "https://shop.test/cart?step=pay", returnurl.Return{Payment: done.Payment.ID, Status: "failed", Source: l.ID})
	// The page the browser lands on (challenge.js follows receipt_url) offers
	// that signed return beside "Try again", so the shopper can go back.
	page := e.Do(apitest.Req{Method: "GET", Path: apitest.PathOf(t, done.ReceiptURL)})
	back := regexp.MustCompile(`id="return-cancel" href="([^"]+)"`).FindStringSubmatch(string(page.Body))
	if page.Status != http.StatusOK || back == nil || !strings.Contains(string(page.Body), `id="retry"`) {
		t.Fatalf("failed challenge's page: %d %s", page.Status, page.Body)
	}
	e.WantSignedReturn(html.UnescapeString(back[1]), "https://shop.test/cart?step=pay", returnurl.Return{Payment: done.Payment.ID, Status: "failed", Source: l.ID})
	// A card declined at once stays on the page to try again: no redirect.
	declined := apitest.PayAnswerOf(t, e.Pay(apitest.CheckoutPath(t, l), apitest.CardBody("4000000000000002"), ""))
	if declined.Payment.Status != "failed" || declined.RedirectURL != nil {
		t.Fatalf("decline: %+v", declined)
	}
	if page := e.Do(apitest.Req{Method: "GET", Path: apitest.PathOf(t, declined.ReceiptURL)}); strings.Contains(string(page.Body), "return-cancel") {
		t.Fatalf("a decline's page returns to the cancel URL: %s", page.Body)
	}
}

func TestChallengeFailed(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	mid, c := e.SignUp("challenge-fail@shop.test")
	l := e.CreateLink(c, nil)
	a := e.Challenge(l)
	res := e.Answer(a.NextAction.URL, "fail", "")
	done := apitest.PayAnswerOf(t, res)
	if res.Status != http.StatusOK || done.Payment.Status != "failed" || done.Payment.FailureCode == nil ||
		*done.Payment.FailureCode != "authentication_failed" || done.RedirectURL != nil {
		t.Fatalf("fail: %d %s", res.Status, res.Body)
	}
	if n := e.Count(`SELECT count(*) FROM events WHERE merchant_id = $1 AND type = 'payment.failed'`, mid); n != 1 {
		t.Fatalf("%d payment.failed events", n)
	}
	// The single-use link is still payable after a failed attempt.
	if res := e.Pay(apitest.CheckoutPath(t, l), apitest.CardBody("4242424242424242"), ""); res.Status != http.StatusOK {
		t.Fatalf("retry after a failed challenge: %d %s", res.Status, res.Body)
	}
	again := e.Answer(a.NextAction.URL, "approve", "")
	if p := apitest.PayAnswerOf(t, again); again.Status != http.StatusOK || p.Payment.Status != "failed" {
		t.Fatalf("approving a failed challenge later: %d %s", again.Status, again.Body)
	}
	// The failed payment's page is no receipt: nothing was paid to the merchant.
	page := e.Do(apitest.Req{Method: "GET", Path: apitest.PathOf(t, done.ReceiptURL)})
	if body := string(page.Body); page.Status != http.StatusOK || !strings.Contains(body, "Payment failed") ||
		!strings.Contains(body, ">Payment details</h2>") || strings.Contains(body, "Paid to") || strings.Contains(body, ">Receipt<") {
		t.Fatalf("failed payment's page: %d %s", page.Status, body)
	}
}

func TestChallengeRules(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("challenge-rules@shop.test")
	l := e.CreateLink(c, nil)
	a := e.Challenge(l)
	apitest.WantError(t, e.Answer(a.NextAction.URL, "maybe", ""), 400, "outcome_invalid")
	u, _ := url.Parse(a.NextAction.URL)
	q := u.Query()
	q.Set("sig", q.Get("sig")[1:]+"A")
	apitest.WantError(t, e.Pay(u.Path+"?"+q.Encode(), map[string]string{"outcome": "approve"}, ""), 403, "link_signature_invalid")
	other := strings.Replace(apitest.PathOf(t, a.NextAction.URL), a.Payment.ID, "pay_01m80atb0mk066ndt4ttp8g97x", 1)
	apitest.WantError(t, e.Pay(other, map[string]string{"outcome": "approve"}, ""), 404, "payment_not_found")
	// Another shopper pays the single-use link meanwhile: approving the
	// challenge now cannot pay it twice.
	if res := e.Pay(apitest.CheckoutPath(t, l), apitest.CardBody("4242424242424242"), ""); res.Status != http.StatusOK {
		t.Fatalf("second shopper: %d", res.Status)
	}
	apitest.WantError(t, e.Answer(a.NextAction.URL, "approve", ""), http.StatusGone, "link_completed")
	e.WantBalance(c, "USD", 2500)
}

// TestChallengeAnsweredOnce answers one challenge from many tabs at
// once: it is decided once.
func TestChallengeAnsweredOnce(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	mid, c := e.SignUp("challenge-race@shop.test")
	l := e.CreateLink(c, map[string]any{"single_use": false})
	a := e.Challenge(l)
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
			res := e.Answer(a.NextAction.URL, outcome, fmt.Sprintf("tab-%d", i))
			if res.Status != http.StatusOK && res.ErrorCode() != "idempotency_key_in_use" {
				t.Errorf("answer: %d %s", res.Status, res.Body)
			}
		}()
	}
	close(start)
	wg.Wait()
	var status string
	var code sql.NullString
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT status, failure_code FROM payments WHERE id = $1`, a.Payment.ID).Scan(&status, &code); err != nil {
		t.Fatal(err)
	}
	events := e.Count(`SELECT count(*) FROM events WHERE merchant_id = $1 AND type IN ('payment.succeeded', 'payment.failed')`, mid)
	if (status != "succeeded" && status != "failed") || events != 1 {
		t.Fatalf("status %s with %d outcome events; want one final outcome", status, events)
	}
	var want int64
	if status == "succeeded" {
		want = 2500
	}
	e.WantBalance(c, "USD", want)
}
