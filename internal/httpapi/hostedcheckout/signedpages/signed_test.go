package signedpages_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/returnurl"
	"github.com/paylink/paylink/internal/wire"
)

func TestSignedLinkPageAndPayment(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	mid, c := e.SignUp("signed@shop.test")
	path := e.SignedPath(c, nil)
	page := e.Do(apitest.Req{Method: "GET", Path: path})
	body := string(page.Body)
	if page.Status != http.StatusOK || !strings.Contains(body, "$25.00") || !strings.Contains(body, "Blue mug &amp; saucer") ||
		!strings.Contains(body, "Shop signed") || !strings.Contains(body, `href="https://shop.example/cancel"`) {
		t.Fatalf("signed link page: %d\n%s", page.Status, body)
	}
	if page.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(page.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("signed link page headers = %v", page.Header)
	}
	// Wallet payments are for payment links only.
	wallet := apitest.CardBody("4242424242424242")
	wallet["payment_method"] = map[string]any{"type": "wallet"}
	apitest.WantError(t, e.Pay(path, wallet, ""), 400, "payment_method_unsupported")

	// A decline does not use the reference up.
	apitest.WantError(t, e.Pay(path, apitest.CardBody("4000000000000002"), "a-1"), http.StatusPaymentRequired, "card_declined")
	res := e.Pay(path, apitest.CardBody("4242424242424242"), "a-2")
	a := apitest.PayAnswerOf(t, res)
	if res.Status != 200 || a.Payment.Status != "succeeded" || a.Payment.Reference == nil || *a.Payment.Reference != "order-17" ||
		a.Payment.PaymentLink != nil || a.Payment.PaymentForm != nil || a.Payment.Amount != 2500 ||
		a.RedirectURL == nil {
		t.Fatalf("pay signed link: %d %s", res.Status, res.Body)
	}
	e.WantSignedReturn(*a.RedirectURL, "https://shop.example/ok?order=17", returnurl.Return{Payment: a.Payment.ID, Status: "succeeded", Source: mid + ":order-17"})
	receipt := e.Do(apitest.Req{Method: "GET", Path: strings.TrimPrefix(a.ReceiptURL, "http://paylink.test")})
	if receipt.Status != 200 || !strings.Contains(string(receipt.Body), `data-status="succeeded"`) ||
		!strings.Contains(string(receipt.Body), a.Payment.ID) {
		t.Fatalf("receipt: %d %s", receipt.Status, receipt.Body)
	}
	// Paid: the page is 410 and a second payment is refused.
	page = e.Do(apitest.Req{Method: "GET", Path: path})
	if page.Status != http.StatusGone || !strings.Contains(string(page.Body), "already been paid") {
		t.Fatalf("page of a paid reference: %d", page.Status)
	}
	apitest.WantError(t, e.Pay(path, apitest.CardBody("4242424242424242"), "a-3"), http.StatusGone, "link_completed")
	// The retry of the request that paid it replays its answer.
	again := e.Pay(path, apitest.CardBody("4242424242424242"), "a-2")
	if again.Status != 200 || string(again.Body) != string(res.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry of the paying request: %d %s", again.Status, again.Body)
	}
	// Another reference of the same merchant is payable.
	if r := e.Pay(e.SignedPath(c, map[string]string{"ref": "order-18"}), apitest.CardBody("4242424242424242"), ""); r.Status != 200 {
		t.Fatalf("second reference: %d %s", r.Status, r.Body)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM payments WHERE merchant_id = $1 AND merchant_reference = 'order-17'`:                              2,
		`SELECT count(*) FROM paid_references WHERE merchant_id = $1`:                                                           2,
		`SELECT count(*) FROM events WHERE merchant_id = $1 AND type = 'payment.succeeded' AND data->>'reference' = 'order-17'`: 1,
		`SELECT count(*) FROM events WHERE merchant_id = $1 AND type = 'payment.failed' AND data->>'reference' = 'order-17'`:    1,
		`SELECT count(*) FROM pending_captures WHERE merchant_id = $1`:                                                          2,
	} {
		if n := e.Count(q, mid); n != want {
			t.Errorf("%s = %d, want %d", q, n, want)
		}
	}
	e.WantBalance(c, "USD", 5000)
	if r := e.Refund(c, a.Payment.ID, nil); r.Status != http.StatusCreated {
		t.Fatalf("refund: %d %s", r.Status, r.Body)
	}
	e.WantBalance(c, "USD", 2500)
	// The receipt stays readable after the link expired.
	e.Clock.Advance(2 * time.Hour)
	if r := e.Do(apitest.Req{Method: "GET", Path: strings.TrimPrefix(a.ReceiptURL, "http://paylink.test")}); r.Status != 200 {
		t.Fatalf("receipt after expiry: %d", r.Status)
	}
	wantLedgerVerified(t, e)
}

// wantLedgerVerified fails unless the ledger rebuilds to the stored
// balances and every transaction balances.
func wantLedgerVerified(t *testing.T, e *apitest.Env) {
	t.Helper()
	if rep, err := ledger.Verify(context.Background(), e.DB.Pool); err != nil || !rep.OK() {
		t.Fatalf("ledger does not verify: %+v, %v", rep, err)
	}
}

func TestSignedLinkTampering(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("tamper@shop.test")
	_, other := e.SignUp("tamper-other@shop.test")
	params := e.SignedParams(c, nil)
	good := apitest.SignWith(c.Secret, params)
	u, _ := url.Parse(good)
	q := u.Query()
	wantForbidden := func(name, path string) {
		t.Helper()
		page := e.Do(apitest.Req{Method: "GET", Path: path})
		if page.Status != http.StatusForbidden || !strings.Contains(string(page.Body), "not valid") {
			t.Errorf("%s: page %d", name, page.Status)
		}
		res := e.Pay(path, apitest.CardBody("4242424242424242"), "")
		if res.Status != http.StatusForbidden || res.ErrorCode() != "link_signature_invalid" {
			t.Errorf("%s: POST %d %s", name, res.Status, res.Body)
		}
	}
	// Every parameter, edited after signing.
	edits := map[string]string{"key": other.ID, "amount": "1", "currency": "EUR", "ref": "order-18",
		"exp": strconv.FormatInt(e.Clock.Now().Add(2*time.Hour).Unix(), 10), "description": "Free mug",
		"success_url": "https://evil.example/ok", "cancel_url": "https://evil.example/cancel",
		"sig": strings.Repeat("A", 43)}
	for name, v := range edits {
		edited := url.Values{}
		for k, vs := range q {
			edited[k] = vs
		}
		edited.Set(name, v)
		wantForbidden("edited "+name, "/pay/s?"+edited.Encode())
	}
	// A parameter removed, added or repeated.
	for name := range params {
		removed := url.Values{}
		for k, vs := range q {
			if k != name {
				removed[k] = vs
			}
		}
		wantForbidden("removed "+name, "/pay/s?"+removed.Encode())
	}
	wantForbidden("added parameter", good+"&utm_source=mail")
	wantForbidden("repeated parameter", good+"&amount=1")
	wantForbidden("no query", "/pay/s")
	// Signed with another merchant's secret, or an unknown key.
	wantForbidden("another merchant's secret", apitest.SignWith(other.Secret, params))
	wantForbidden("unknown key", e.SignedPath(apitest.Creds{ID: "key_01m8000000000000000000000a", Secret: c.Secret}, nil))
	// A revoked key: its links stop working at once.
	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys", Auth: &c})
	var k2 wire.APIKey
	res.Decode(t, &k2)
	second := apitest.Creds{ID: k2.ID, Secret: k2.Secret}
	byK2 := e.SignedPath(second, map[string]string{"ref": "by-k2"})
	if page := e.Do(apitest.Req{Method: "GET", Path: byK2}); page.Status != 200 {
		t.Fatalf("link of a second key: %d", page.Status)
	}
	e.Do(apitest.Req{Method: "DELETE", Path: "/v1/api_keys/" + k2.ID, Auth: &c})
	wantForbidden("revoked key", byK2)
	if n := e.Count(`SELECT count(*) FROM payments`); n != 0 {
		t.Fatalf("%d payments from tampered links", n)
	}
	// The untouched link still works.
	if r := e.Pay(good, apitest.CardBody("4242424242424242"), ""); r.Status != 200 {
		t.Fatalf("the good link: %d %s", r.Status, r.Body)
	}
}

func TestSignedLinkExpiryAndValues(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("signed-exp@shop.test")
	now := e.Clock.Now()
	past := e.SignedPath(c, map[string]string{"exp": strconv.FormatInt(now.Add(-time.Second).Unix(), 10)})
	if page := e.Do(apitest.Req{Method: "GET", Path: past}); page.Status != http.StatusGone || !strings.Contains(string(page.Body), "expired") {
		t.Fatalf("expired link page: %d", page.Status)
	}
	apitest.WantError(t, e.Pay(past, apitest.CardBody("4242424242424242"), ""), http.StatusGone, "link_expired")

	// Valid now, expired once the clock passes exp.
	soon := e.SignedPath(c, map[string]string{"exp": strconv.FormatInt(now.Add(time.Minute).Unix(), 10)})
	if page := e.Do(apitest.Req{Method: "GET", Path: soon}); page.Status != 200 {
		t.Fatalf("link before exp: %d", page.Status)
	}
	e.Clock.Advance(time.Minute)
	apitest.WantError(t, e.Pay(soon, apitest.CardBody("4242424242424242"), ""), http.StatusGone, "link_expired")

	for name, edit := range map[string]map[string]string{
		"exp beyond 90 days":   {"exp": strconv.FormatInt(e.Clock.Now().Add(91*24*time.Hour).Unix(), 10)},
		"zero amount":          {"amount": "0"},
		"decimal amount":       {"amount": "25.00"},
		"unsupported currency": {"currency": "XAF"},
		"bad reference":        {"ref": "order 17"},
		"script success_url":   {"success_url": "javascript:alert(1)"},
	} {
		path := e.SignedPath(c, edit)
		page := e.Do(apitest.Req{Method: "GET", Path: path})
		if page.Status != http.StatusBadRequest || !strings.Contains(string(page.Body), "not valid") {
			t.Errorf("%s: page %d", name, page.Status)
		}
		apitest.WantError(t, e.Pay(path, apitest.CardBody("4242424242424242"), ""), http.StatusBadRequest, "signed_link_invalid")
	}
	if n := e.Count(`SELECT count(*) FROM payments`); n != 0 {
		t.Fatalf("%d payments from expired or invalid links", n)
	}
	// Any case of currency is accepted, as everywhere.
	res := e.Pay(e.SignedPath(c, map[string]string{"currency": "eur"}), apitest.CardBody("4242424242424242"), "")
	if res.Status != 200 || apitest.PayAnswerOf(t, res).Payment.Currency != "EUR" {
		t.Fatalf("lower-case currency: %d %s", res.Status, res.Body)
	}
}

// TestSignedReferencePaidOnceUnderConcurrency: many shoppers pay one
// reference at the same moment, through two API replicas; exactly one
// succeeds.
func TestSignedReferencePaidOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	mid, c := e.SignUp("signed-rush@shop.test")
	r2 := e.Replica()
	path := e.SignedPath(c, map[string]string{"amount": "1999"})
	const shoppers = 40
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		res   = make([]apitest.Response, shoppers)
	)
	for i := range shoppers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			srv := e
			if i%2 == 1 {
				srv = r2
			}
			res[i] = srv.Pay(path, apitest.CardBody("4242424242424242"), fmt.Sprintf("shopper-%d", i))
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, r := range res {
		switch {
		case r.Status == http.StatusOK:
			ok++
		case r.Status == http.StatusGone && r.ErrorCode() == "link_completed":
		default:
			t.Errorf("unexpected answer %d %s", r.Status, r.Body)
		}
	}
	if ok != 1 {
		t.Fatalf("%d shoppers paid one reference, want exactly 1", ok)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM payments WHERE merchant_id = $1 AND status = 'succeeded'`:     1,
		`SELECT count(*) FROM payments WHERE merchant_id = $1`:                              1,
		`SELECT count(*) FROM paid_references WHERE merchant_id = $1`:                       1,
		`SELECT count(*) FROM pending_captures WHERE merchant_id = $1`:                      1,
		`SELECT count(*) FROM events WHERE merchant_id = $1 AND type = 'payment.succeeded'`: 1,
	} {
		if n := e.Count(q, mid); n != want {
			t.Errorf("%s = %d, want %d", q, n, want)
		}
	}
	if n := e.Count(`SELECT count(*) FROM ledger_transactions WHERE kind = 'payment'`); n != 1 {
		t.Errorf("%d payment ledger transactions, want 1", n)
	}
	e.WantBalance(c, "USD", 1999)
	wantLedgerVerified(t, e)
}

func TestSignedLinkChallenge(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("signed-challenge@shop.test")
	path := e.SignedPath(c, nil)
	first := apitest.PayAnswerOf(t, e.Pay(path, apitest.CardBody("4000000000003220"), "c-1"))
	second := apitest.PayAnswerOf(t, e.Pay(path, apitest.CardBody("4000000000003220"), "c-2"))
	if first.NextAction == nil || second.NextAction == nil || !strings.Contains(first.NextAction.URL, "/pay/s/payments/"+first.Payment.ID+"/challenge?") {
		t.Fatalf("challenges: %+v %+v", first, second)
	}
	challenge := strings.TrimPrefix(first.NextAction.URL, "http://paylink.test")
	if page := e.Do(apitest.Req{Method: "GET", Path: challenge}); page.Status != 200 || !strings.Contains(string(page.Body), `id="approve"`) {
		t.Fatalf("challenge page: %d", page.Status)
	}
	// A payment of another reference is not reachable under this one.
	other := e.SignedPath(c, map[string]string{"ref": "other"})
	if page := e.Do(apitest.Req{Method: "GET", Path: strings.Replace(other, "/pay/s?", "/pay/s/payments/"+first.Payment.ID+"/challenge?", 1)}); page.Status != 404 {
		t.Fatalf("payment under another reference: %d", page.Status)
	}
	res := e.Pay(challenge, map[string]string{"outcome": "approve"}, "")
	if res.Status != 200 || apitest.PayAnswerOf(t, res).Payment.Status != "succeeded" {
		t.Fatalf("approve: %d %s", res.Status, res.Body)
	}
	// The second shopper's challenge can no longer be approved: the
	// reference is paid.
	apitest.WantError(t, e.Pay(strings.TrimPrefix(second.NextAction.URL, "http://paylink.test"),
		map[string]string{"outcome": "approve"}, ""), http.StatusGone, "link_completed")
	e.WantBalance(c, "USD", 2500)
}
