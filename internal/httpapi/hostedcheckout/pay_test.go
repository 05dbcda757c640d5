package hostedcheckout_test

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

	"github.com/ulule/limiter/v3"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/wire"
)

// TestCheckoutSignatureTampering edits every part of a checkout URL, for a
// link that exists and for one that does not: each is a 403, as an HTML
// page for GET and as JSON for POST. A replica whose database is closed
// answers the same, which shows the signature is checked before the
// database is asked.
func TestCheckoutSignatureTampering(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("tamper@shop.test")
	l := e.CreateLink(c, nil)
	u, _ := url.Parse(l.URL)
	q := u.Query()
	exp, kid, sig := q.Get("exp"), q.Get("kid"), q.Get("sig")
	expN, _ := strconv.ParseInt(exp, 10, 64)
	other := id.New("plink")
	flip := func(s string) string {
		b := []byte(s)
		if b[3] == 'a' {
			b[3] = 'b'
		} else {
			b[3] = 'a'
		}
		return string(b)
	}
	qs := func(exp, kid, sig string) string {
		v := url.Values{}
		for k, val := range map[string]string{"exp": exp, "kid": kid, "sig": sig} {
			if val != "\x00" {
				v.Set(k, val)
			}
		}
		return v.Encode()
	}
	const absent = "\x00"
	tampered := map[string]string{
		"other id":          "/pay/" + other + "?" + qs(exp, kid, sig),
		"edited id":         "/pay/" + flip(l.ID) + "?" + qs(exp, kid, sig),
		"exp +1":            "/pay/" + l.ID + "?" + qs(strconv.FormatInt(expN+1, 10), kid, sig),
		"exp far future":    "/pay/" + l.ID + "?" + qs(strconv.FormatInt(expN+86400*365, 10), kid, sig),
		"exp in the past":   "/pay/" + l.ID + "?" + qs(strconv.FormatInt(expN-86400*2, 10), kid, sig),
		"exp leading zero":  "/pay/" + l.ID + "?" + qs("0"+exp, kid, sig),
		"unknown kid":       "/pay/" + l.ID + "?" + qs(exp, "t2", sig),
		"edited sig":        "/pay/" + l.ID + "?" + qs(exp, kid, flip(sig)),
		"sig of other link": "/pay/" + other + "?" + qs(exp, kid, sig),
		"no exp":            "/pay/" + l.ID + "?" + qs(absent, kid, sig),
		"no kid":            "/pay/" + l.ID + "?" + qs(exp, absent, sig),
		"no sig":            "/pay/" + l.ID + "?" + qs(exp, kid, absent),
		"no query":          "/pay/" + l.ID,
		"not an id":         "/pay/hello?" + qs(exp, kid, sig),
	}
	pool, err := postgres.Open(context.Background(), e.DB.Pool.Config().ConnString(), 2)
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
	offline := e.Replica(func(d *httpapi.Deps) { d.DB = pool })
	for name, path := range tampered {
		for _, srv := range []*apitest.Env{e, offline} {
			page := srv.Do(apitest.Req{Method: "GET", Path: path})
			if page.Status != http.StatusForbidden || !strings.Contains(string(page.Body), "This payment link is not valid") ||
				!strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
				t.Errorf("%s: GET = %d %.200s", name, page.Status, page.Body)
			}
			apitest.WantError(t, srv.Pay(path, apitest.CardBody("4242424242424242"), ""), http.StatusForbidden, "link_signature_invalid")
		}
	}
	if n := e.Count(`SELECT count(*) FROM payments`); n != 0 {
		t.Fatalf("%d payments made through tampered URLs", n)
	}
	// The untouched URL works.
	if res := e.Do(apitest.Req{Method: "GET", Path: apitest.CheckoutPath(t, l)}); res.Status != http.StatusOK {
		t.Fatalf("genuine URL: %d", res.Status)
	}
}

func TestCheckoutSignedButMissingIs404(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	ghost := &links.Link{ID: id.New("plink"), ExpiresAt: e.Clock.Now().Add(time.Hour)}
	path := e.Deps.Links.Path(ghost, "")
	page := e.Do(apitest.Req{Method: "GET", Path: path})
	if page.Status != http.StatusNotFound || !strings.Contains(string(page.Body), "not found") {
		t.Fatalf("GET = %d %s", page.Status, page.Body)
	}
	apitest.WantError(t, e.Pay(path, apitest.CardBody("4242424242424242"), ""), http.StatusNotFound, "payment_link_not_found")
}

func TestCheckoutExpiry(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	mid, c := e.SignUp("expiry@shop.test")
	l := e.CreateLink(c, map[string]any{"expires_in": 120})
	keep := e.CreateLink(c, map[string]any{"expires_in": 3600})
	path := apitest.CheckoutPath(t, l)
	if res := e.Do(apitest.Req{Method: "GET", Path: path}); res.Status != http.StatusOK {
		t.Fatalf("before expiry: %d", res.Status)
	}
	e.Clock.Advance(121 * time.Second)
	page := e.Do(apitest.Req{Method: "GET", Path: path})
	if page.Status != http.StatusGone || !strings.Contains(string(page.Body), "expired") {
		t.Fatalf("after expiry: %d %s", page.Status, page.Body)
	}
	apitest.WantError(t, e.Pay(path, apitest.CardBody("4242424242424242"), ""), http.StatusGone, "link_expired")
	var got wire.PaymentLink
	e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_links/" + l.ID, Auth: &c}).Decode(t, &got)
	if got.Status != "expired" {
		t.Fatalf("API status right after expiry = %s, want expired (computed on read)", got.Status)
	}
	// The periodic task stores it and tells the merchant, once.
	for range 2 {
		if _, err := e.Deps.Links.ExpireDue(context.Background(), e.DB, 100); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.Count(`SELECT count(*) FROM payment_links WHERE status = 'expired' AND id = $1`, l.ID); n != 1 {
		t.Fatal("expired status not stored")
	}
	if n := e.Count(`SELECT count(*) FROM payment_links WHERE status = 'active' AND id = $1`, keep.ID); n != 1 {
		t.Fatal("a live link was expired")
	}
	var data string
	if err := e.DB.Pool.QueryRow(context.Background(),
		`SELECT data::text FROM events WHERE merchant_id = $1 AND type = 'payment_link.expired'`, mid).Scan(&data); err != nil {
		t.Fatalf("exactly one payment_link.expired event: %v", err)
	}
	if !strings.Contains(data, l.ID) || !strings.Contains(data, `"status": "expired"`) {
		t.Fatalf("event data = %s", data)
	}
}

type cardCase struct {
	number      string
	status      int
	code        string // error code, "" for none
	payment     string // payment status, "" when no payment is recorded
	currency    string
	event       string
	failureCode string
}

// TestEachTestCard pays with every card of API.md's table and checks the
// answer, the stored payment, its events and that declines change no
// balance.
func TestEachTestCard(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	mid, c := e.SignUp("cards@shop.test")
	cases := map[string]cardCase{
		"visa":               {"4242424242424242", 200, "", "succeeded", "USD", "payment.succeeded", ""},
		"mastercard":         {"5555555555554444", 200, "", "succeeded", "EUR", "payment.succeeded", ""},
		"amex usd":           {"378282246310005", 200, "", "succeeded", "USD", "payment.succeeded", ""},
		"amex eur":           {"378282246310005", 402, "currency_not_supported", "", "EUR", "", ""},
		"declined":           {"4000000000000002", 402, "card_declined", "failed", "USD", "payment.failed", "card_declined"},
		"insufficient funds": {"4000000000009995", 402, "insufficient_funds", "failed", "USD", "payment.failed", "insufficient_funds"},
		"expired card":       {"4000000000000069", 402, "expired_card", "failed", "USD", "payment.failed", "expired_card"},
		"incorrect cvc":      {"4000000000000127", 402, "incorrect_cvc", "failed", "USD", "payment.failed", "incorrect_cvc"},
		"processing error":   {"4000000000000119", 402, "processing_error", "failed", "USD", "payment.failed", "processing_error"},
		"challenge":          {"4000000000003220", 200, "", "requires_action", "USD", "payment.requires_action", ""},
		"luhn failure":       {"4242424242424241", 402, "invalid_number", "", "USD", "", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l := e.CreateLink(c, map[string]any{"currency": tc.currency, "single_use": false})
			res := e.Pay(apitest.CheckoutPath(t, l), apitest.CardBody(tc.number), "")
			if tc.code != "" {
				apitest.WantError(t, res, tc.status, tc.code)
			} else if res.Status != tc.status {
				t.Fatalf("status %d %s, want %d", res.Status, res.Body, tc.status)
			}
			a := apitest.PayAnswerOf(t, res)
			rows := e.Count(`SELECT count(*) FROM payments WHERE payment_link_id = $1`, l.ID)
			if tc.payment == "" {
				if rows != 0 {
					t.Fatalf("a card refused before authorization recorded %d payments", rows)
				}
				return
			}
			if rows != 1 || a.Payment.Status != tc.payment || a.Payment.PaymentLink == nil || *a.Payment.PaymentLink != l.ID {
				t.Fatalf("payment = %+v (%d rows)", a.Payment, rows)
			}
			if tc.failureCode != "" && (a.Payment.FailureCode == nil || *a.Payment.FailureCode != tc.failureCode) {
				t.Errorf("failure_code = %v, want %s", a.Payment.FailureCode, tc.failureCode)
			}
			if a.Payment.PaymentMethod.Last4 == nil || *a.Payment.PaymentMethod.Last4 != tc.number[len(tc.number)-4:] {
				t.Errorf("payment_method = %+v", a.Payment.PaymentMethod)
			}
			if a.Payment.Customer.Email != "ada@example.test" || a.Payment.Customer.Name != "Ada Shopper" {
				t.Errorf("customer = %+v", a.Payment.Customer)
			}
			events := e.Count(`SELECT count(*) FROM events WHERE merchant_id = $1 AND data->>'id' = $2`, mid, a.Payment.ID)
			want := 0
			if tc.event != "" {
				want = 1
				if n := e.Count(`SELECT count(*) FROM events WHERE type = $1 AND data->>'id' = $2`, tc.event, a.Payment.ID); n != 1 {
					t.Errorf("%s events = %d", tc.event, n)
				}
			}
			if events != want {
				t.Errorf("%d events for the payment, want %d", events, want)
			}
			if tc.payment == "requires_action" {
				if a.NextAction == nil || a.NextAction.Type != "challenge" || !strings.Contains(a.NextAction.URL, "/payments/"+a.Payment.ID+"/challenge?") {
					t.Errorf("next_action = %+v", a.NextAction)
				}
			}
			captures := e.Count(`SELECT count(*) FROM pending_captures WHERE payment_id = $1`, a.Payment.ID)
			if (tc.payment == "succeeded") != (captures == 1) {
				t.Errorf("%d captures queued for a %s payment", captures, tc.payment)
			}
		})
	}
}

func TestCheckoutRejectsBadInputAndChangesNothing(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("bad-pay@shop.test")
	l := e.CreateLink(c, nil)
	path := apitest.CheckoutPath(t, l)
	card := func(mut func(card map[string]any)) map[string]any {
		b := apitest.CardBody("4242424242424242")
		mut(b["payment_method"].(map[string]any)["card"].(map[string]any))
		return b
	}
	body := func(mut func(b map[string]any)) map[string]any {
		b := apitest.CardBody("4242424242424242")
		mut(b)
		return b
	}
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"bad email", body(func(b map[string]any) { b["email"] = "ada" }), 400, "email_invalid"},
		{"no name", body(func(b map[string]any) { b["name"] = " " }), 400, "name_invalid"},
		{"wallet", body(func(b map[string]any) { b["payment_method"] = map[string]any{"type": "bank"} }), 400, "payment_method_unsupported"},
		{"no card", body(func(b map[string]any) { b["payment_method"] = map[string]any{"type": "card"} }), 400, "parameter_missing"},
		{"unknown card field", card(func(c map[string]any) { c["pin"] = "1234" }), 400, "unknown_parameter"},
		{"month as string", card(func(c map[string]any) { c["exp_month"] = "12" }), 400, "parameter_invalid"},
		{"luhn", card(func(c map[string]any) { c["number"] = "4242424242424241" }), 402, "invalid_number"},
		{"letters", card(func(c map[string]any) { c["number"] = "4242-4242-abcd-4242" }), 402, "invalid_number"},
		{"unsupported brand", card(func(c map[string]any) { c["number"] = "9999999999999995" }), 402, "card_not_supported"},
		{"past expiry", card(func(c map[string]any) { c["exp_year"] = 2020 }), 402, "expired_card"},
		{"month 0", card(func(c map[string]any) { c["exp_month"] = 0 }), 402, "invalid_expiry_month"},
		{"short cvc", card(func(c map[string]any) { c["cvc"] = "12" }), 402, "invalid_cvc"},
		{"malformed json", `{"email":`, 400, "invalid_json"},
	}
	for _, tt := range tests {
		apitest.WantError(t, e.Pay(path, tt.body, ""), tt.status, tt.code)
	}
	if n := e.Count(`SELECT (SELECT count(*) FROM payments) + (SELECT count(*) FROM events) + (SELECT count(*) FROM idempotency_keys)`); n != 0 {
		t.Fatalf("rejected requests left %d rows", n)
	}
}

func TestCheckoutCSRF(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("csrf@shop.test")
	l := e.CreateLink(c, nil)
	path := apitest.CheckoutPath(t, l)
	body := apitest.CardBody("4242424242424242")
	for name, h := range map[string]map[string]string{
		"form post":         {"Content-Type": "application/x-www-form-urlencoded"},
		"text/plain":        {"Content-Type": "text/plain"},
		"no content type":   {},
		"other origin":      {"Content-Type": "application/json", "Origin": "https://evil.test"},
		"cross-site fetch":  {"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
		"same-site sibling": {"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"},
	} {
		res := e.Do(apitest.Req{Method: "POST", Path: path, Body: body, Header: h})
		if res.Status != 400 && res.Status != 403 {
			t.Errorf("%s: %d %s", name, res.Status, res.Body)
		}
		if !strings.Contains(string(res.Body), "content_type_invalid") && !strings.Contains(string(res.Body), "origin_not_allowed") {
			t.Errorf("%s: %s", name, res.Body)
		}
	}
	ok := e.Do(apitest.Req{Method: "POST", Path: path, Body: body, Header: map[string]string{
		"Content-Type": "application/json; charset=utf-8", "Origin": "http://paylink.test", "Sec-Fetch-Site": "same-origin"}})
	if ok.Status != http.StatusOK {
		t.Fatalf("same-origin page POST: %d %s", ok.Status, ok.Body)
	}
	if n := e.Count(`SELECT count(*) FROM payments`); n != 1 {
		t.Fatalf("%d payments, want only the same-origin one", n)
	}
}

func TestCheckoutPagesCarrySecurityHeaders(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("headers@shop.test")
	l := e.CreateLink(c, map[string]any{"description": `<script>alert("x")</script>`})
	for _, path := range []string{apitest.CheckoutPath(t, l), "/pay/" + l.ID} {
		res := e.Do(apitest.Req{Method: "GET", Path: path})
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") ||
			strings.Contains(csp, "unsafe-inline") || res.Header.Get("X-Content-Type-Options") != "nosniff" ||
			res.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("GET %s headers = %v", path, res.Header)
		}
		if strings.Contains(string(res.Body), `<script>alert`) {
			t.Errorf("GET %s: the description was not escaped", path)
		}
	}
	page := string(e.Do(apitest.Req{Method: "GET", Path: apitest.CheckoutPath(t, l)}).Body)
	for _, want := range []string{"Shop headers", "$25.00", `<label for="number">`, `autocomplete="cc-number"`, `src="/assets/pay.js?v=`} {
		if !strings.Contains(page, want) {
			t.Errorf("checkout page lacks %q", want)
		}
	}
}

func TestCheckoutIdempotency(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	mid, c := e.SignUp("idem-pay@shop.test")
	l := e.CreateLink(c, map[string]any{"single_use": false})
	path := apitest.CheckoutPath(t, l)
	first := e.Pay(path, apitest.CardBody("4242424242424242"), "attempt-1")
	second := e.Pay(path, apitest.CardBody("4242424242424242"), "attempt-1")
	if first.Status != 200 || second.Status != 200 || string(first.Body) != string(second.Body) ||
		second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("double submit: %d %s / %d %s", first.Status, first.Body, second.Status, second.Body)
	}
	apitest.WantError(t, e.Pay(path, apitest.CardBody("5555555555554444"), "attempt-1"), 422, "idempotency_key_reused")
	// A decline is an answer too: replayed, not charged again.
	d1 := e.Pay(path, apitest.CardBody("4000000000000002"), "attempt-2")
	d2 := e.Pay(path, apitest.CardBody("4000000000000002"), "attempt-2")
	if d1.Status != 402 || string(d1.Body) != string(d2.Body) {
		t.Fatalf("declined replay: %s / %s", d1.Body, d2.Body)
	}
	if n := e.Count(`SELECT count(*) FROM payments WHERE merchant_id = $1`, mid); n != 2 {
		t.Fatalf("%d payments, want 2 (one success, one decline)", n)
	}
	if n := e.Count(`SELECT count(*) FROM events WHERE merchant_id = $1 AND type = 'payment.succeeded'`, mid); n != 1 {
		t.Fatalf("%d payment.succeeded events, want 1", n)
	}
	// Without a key every POST is its own attempt.
	e.Pay(path, apitest.CardBody("4242424242424242"), "")
	e.Pay(path, apitest.CardBody("4242424242424242"), "")
	if n := e.Count(`SELECT count(*) FROM payments WHERE status = 'succeeded'`); n != 3 {
		t.Fatalf("%d succeeded payments, want 3", n)
	}
}

// TestCheckoutReplayOfPaidSingleUseLink retries the request that paid a
// single-use link, with its Idempotency-Key, once the link's cached status
// is stale: the retry is the first answer replayed, not 410
// link_completed (API.md: the same key gets the first response again).
func TestCheckoutReplayOfPaidSingleUseLink(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("replay-single@shop.test")
	path := apitest.CheckoutPath(t, e.CreateLink(c, nil))
	first := e.Pay(path, apitest.CardBody("4242424242424242"), "attempt-1")
	if first.Status != http.StatusOK {
		t.Fatalf("pay: %d %s", first.Status, first.Body)
	}
	e.Clock.Advance(5 * time.Minute) // past the link cache's TTL
	again := e.Pay(path, apitest.CardBody("4242424242424242"), "attempt-1")
	if again.Status != http.StatusOK || string(again.Body) != string(first.Body) ||
		again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry of the paying request: %d %s", again.Status, again.Body)
	}
	apitest.WantError(t, e.Pay(path, apitest.CardBody("4242424242424242"), "attempt-2"), http.StatusGone, "link_completed")
}

// TestCheckoutPayOfClosedLinkIgnoresBody: a POST to a link that cannot be
// paid answers like GET (404, 410) whatever its body, as API.md's
// "the same 403/404/410 rules" says, not 400 for the shopper's fields.
func TestCheckoutPayOfClosedLinkIgnoresBody(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("closed-body@shop.test")
	l := e.CreateLink(c, nil)
	e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links/" + l.ID + "/deactivate", Auth: &c})
	path := apitest.CheckoutPath(t, l)
	ghost := e.Deps.Links.Path(&links.Link{ID: id.New("plink"), ExpiresAt: e.Clock.Now().Add(time.Hour)}, "")
	for _, body := range []any{map[string]any{}, map[string]any{"email": "not-an-address"},
		map[string]any{"email": "a@b.test", "name": "A", "payment_method": map[string]any{"type": "card"}}} {
		apitest.WantError(t, e.Pay(path, body, ""), http.StatusGone, "link_deactivated")
		apitest.WantError(t, e.Pay(ghost, body, ""), http.StatusNotFound, "payment_link_not_found")
	}
}

// TestSingleUseLinkPaidOnceUnderConcurrency sends 10 shoppers at one
// single-use link at the same moment: one is answered 200, the others 410
// link_completed, and the page is the 410 page afterwards. (That exactly
// one payment is recorded, with one of everything it brings, is
// internal/checkout's TestSingleUseLinkIsPaidOnceUnderConcurrency.)
func TestSingleUseLinkPaidOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("rush@shop.test")
	l := e.CreateLink(c, map[string]any{"amount": 1999})
	path := apitest.CheckoutPath(t, l)
	const shoppers = 10
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
			res[i] = e.Pay(path, apitest.CardBody("4242424242424242"), fmt.Sprintf("shopper-%d", i))
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
		t.Fatalf("%d shoppers paid a single-use link, want exactly 1", ok)
	}
	e.WantBalance(c, "USD", 1999)
	page := e.Do(apitest.Req{Method: "GET", Path: path})
	if page.Status != http.StatusGone || !strings.Contains(string(page.Body), "already been paid") {
		t.Fatalf("page after payment: %d", page.Status)
	}
}

func TestCheckoutIsRateLimitedPerClientIP(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("limited@shop.test")
	l := e.CreateLink(c, map[string]any{"single_use": false})
	limited := e.Replica(func(d *httpapi.Deps) {
		d.Limits.Public = limiter.Rate{Period: time.Minute, Limit: 3}
		d.RateLimitPrefix = t.Name()
	})
	path := apitest.CheckoutPath(t, l)
	for i := range 3 {
		res := limited.Do(apitest.Req{Method: "GET", Path: path})
		if res.Status != http.StatusOK || res.Header.Get("X-RateLimit-Limit") != "3" {
			t.Fatalf("request %d: %d %v", i, res.Status, res.Header)
		}
	}
	res := limited.Pay(path, apitest.CardBody("4242424242424242"), "")
	apitest.WantError(t, res, http.StatusTooManyRequests, "rate_limited")
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	if n := e.Count(`SELECT count(*) FROM payments`); n != 0 {
		t.Fatalf("%d payments past the limit", n)
	}
}
