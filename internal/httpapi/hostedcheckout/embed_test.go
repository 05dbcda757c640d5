package hostedcheckout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/returnurl"
	"github.com/paylink/paylink/internal/wire"
)

// embedPath is the embed page of form id as the SDK opens it from parent.
func embedURL(id, parent string) string {
	return "/embed/forms/" + id + "?parent_origin=" + url.QueryEscape(parent)
}

// frameAncestors returns the sources of the CSP's frame-ancestors
// directive.
func frameAncestors(t *testing.T, res apitest.Response) []string {
	t.Helper()
	for _, d := range strings.Split(res.Header.Get("Content-Security-Policy"), ";") {
		f := strings.Fields(d)
		if len(f) > 0 && f[0] == "frame-ancestors" {
			return f[1:]
		}
	}
	t.Fatalf("no frame-ancestors in %q", res.Header.Get("Content-Security-Policy"))
	return nil
}

// dataAttr returns the (unescaped) value of attribute name in page, or "".
func dataAttr(page []byte, name string) string {
	m := regexp.MustCompile(name + `="([^"]*)"`).FindSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(string(m[1]))
}

func TestEmbedPageHeadersAndParentOrigin(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("embed@shop.test")
	f := e.CreateForm(c, map[string]any{"allowed_origins": []string{"https://shop.example", "http://localhost:8081"}})

	res := e.Do(apitest.Req{Method: "GET", Path: embedURL(f.ID, "https://shop.example")})
	if res.Status != http.StatusOK {
		t.Fatalf("embed page: %d %s", res.Status, res.Body)
	}
	if got := frameAncestors(t, res); !cmp.Equal(got, []string{"https://shop.example", "http://localhost:8081"}) {
		t.Fatalf("frame-ancestors = %v, want exactly the form's allowed origins", got)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "default-src 'none'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || res.Header.Get("X-Frame-Options") != "" ||
		res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("headers = %v", res.Header)
	}
	page := string(res.Body)
	if dataAttr(res.Body, "data-parent-origin") != "https://shop.example" || !strings.Contains(page, `id="pay-form"`) ||
		!strings.Contains(page, "/assets/embed.js?v=") || !strings.Contains(page, "$25.00") {
		t.Fatalf("embed page lacks the form, its script or its parent origin:\n%s", page)
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "style=") {
		t.Fatal("the embed page has inline script or style")
	}

	// The parent origin is compared as an origin, and answered normalised.
	res = e.Do(apitest.Req{Method: "GET", Path: embedURL(f.ID, "HTTP://LOCALHOST:8081")})
	if res.Status != http.StatusOK || dataAttr(res.Body, "data-parent-origin") != "http://localhost:8081" {
		t.Fatalf("normalised parent origin: %d %q", res.Status, dataAttr(res.Body, "data-parent-origin"))
	}

	// Any other parent origin: the friendly 403 page, still framable only
	// by the allowed origins, with no form and no origin to talk to.
	for _, parent := range []string{"https://evil.example", "https://shop.example.evil.example", "http://shop.example", "null", ""} {
		path := embedURL(f.ID, parent)
		if parent == "" {
			path = "/embed/forms/" + f.ID
		}
		res := e.Do(apitest.Req{Method: "GET", Path: path})
		if res.Status != http.StatusForbidden || !strings.Contains(string(res.Body), "cannot be shown here") {
			t.Fatalf("parent %q: %d %s", parent, res.Status, res.Body)
		}
		if strings.Contains(string(res.Body), `id="pay-form"`) || dataAttr(res.Body, "data-parent-origin") != "" {
			t.Fatalf("parent %q: the 403 page carries the form or a parent origin", parent)
		}
		if got := frameAncestors(t, res); !cmp.Equal(got, []string{"https://shop.example", "http://localhost:8081"}) {
			t.Fatalf("parent %q: frame-ancestors = %v", parent, got)
		}
	}

	// Unknown forms: 404, framable by nobody.
	for _, id := range []string{"pform_01m8000000000000000000000a", "plink_x", "x"} {
		res := e.Do(apitest.Req{Method: "GET", Path: embedURL(id, "https://shop.example")})
		if res.Status != http.StatusNotFound || !cmp.Equal(frameAncestors(t, res), []string{"'none'"}) {
			t.Fatalf("unknown form %s: %d %v", id, res.Status, res.Header)
		}
	}

	// An inactive form: 410, and the page tells the SDK (onError).
	e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_forms/" + f.ID + "/deactivate", Auth: &c})
	res = e.Do(apitest.Req{Method: "GET", Path: embedURL(f.ID, "https://shop.example")})
	var msg struct {
		Type  string
		Error struct{ Code string }
	}
	if err := json.Unmarshal([]byte(dataAttr(res.Body, "data-message")), &msg); err != nil {
		t.Fatalf("410 page message: %v\n%s", err, res.Body)
	}
	if res.Status != http.StatusGone || msg.Type != "error" || msg.Error.Code != "form_inactive" ||
		dataAttr(res.Body, "data-parent-origin") != "https://shop.example" {
		t.Fatalf("inactive form: %d %+v", res.Status, msg)
	}
}

func TestEmbedPageOfARangeForm(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("embed-range@shop.test")
	f := e.CreateForm(c, map[string]any{"currency": "jpy", "amount_min": 500, "amount_max": 20000,
		"collect": []string{"phone", "billing_address"}})
	res := e.Do(apitest.Req{Method: "GET", Path: embedURL(f.ID, apitest.ShopOrigin)})
	page := string(res.Body)
	for _, want := range []string{`id="amount-input"`, `data-min="500"`, `data-max="20000"`, `data-exponent="0"`,
		`id="phone"`, `data-address="country"`, `From ¥500 to ¥20,000.`} {
		if !strings.Contains(page, want) {
			t.Errorf("range form page lacks %s", want)
		}
	}
}

// formBody is a submission paying with number, with extra fields.
func formBody(number string, extra map[string]any) map[string]any {
	b := apitest.CardBody(number)
	for k, v := range extra {
		b[k] = v
	}
	return b
}

var testAddress = map[string]any{"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "us"}

func TestFormSubmissionIsAPaymentOfItsOwn(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	mid, c := e.SignUp("submit@shop.test")
	f := e.CreateForm(c, map[string]any{"amount_min": 500, "amount_max": 10000, "collect": []string{"phone", "billing_address"},
		"success_url": "https://shop.example/thanks", "metadata": map[string]string{"campaign": "spring"}})
	path := embedURL(f.ID, apitest.ShopOrigin)
	full := map[string]any{"amount": 1234, "phone": "+1 (555) 010-9999", "billing_address": testAddress}
	without := func(k string) map[string]any {
		m := map[string]any{}
		for kk, v := range full {
			if kk != k {
				m[kk] = v
			}
		}
		return m
	}
	with := func(k string, v any) map[string]any {
		m := without(k)
		m[k] = v
		return m
	}
	bad := []struct {
		name   string
		extra  map[string]any
		status int
		code   string
	}{
		{"no amount", without("amount"), 400, "amount_invalid"},
		{"below the range", with("amount", 499), 400, "amount_invalid"},
		{"above the range", with("amount", 10001), 400, "amount_invalid"},
		{"decimal amount", with("amount", 12.34), 400, "amount_invalid"},
		{"string amount", with("amount", "1234"), 400, "amount_invalid"},
		{"no phone", without("phone"), 400, "phone_invalid"},
		{"bad phone", with("phone", "call me"), 400, "phone_invalid"},
		{"no address", without("billing_address"), 400, "address_invalid"},
		{"bad country", with("billing_address", map[string]any{"line1": "1 Main St", "city": "X", "country": "USA"}), 400, "address_invalid"},
		{"address field unknown", with("billing_address", map[string]any{"line1": "1", "city": "X", "country": "US", "zip": "1"}), 400, "unknown_parameter"},
	}
	for _, tc := range bad {
		res := e.Pay(path, formBody("4242424242424242", tc.extra), "")
		if res.Status != tc.status || res.ErrorCode() != tc.code {
			t.Errorf("%s: %d %s; want %d %s", tc.name, res.Status, res.Body, tc.status, tc.code)
		}
	}
	if n := e.Count(`SELECT count(*) FROM payments`) + e.Count(`SELECT count(*) FROM ledger_transactions`); n != 0 {
		t.Fatalf("refused submissions left %d payments and ledger transactions", n)
	}

	res := e.Pay(path, formBody("4242424242424242", full), "attempt-1")
	if res.Status != http.StatusOK {
		t.Fatalf("pay form: %d %s", res.Status, res.Body)
	}
	a := apitest.PayAnswerOf(t, res)
	phone := "+1 (555) 010-9999"
	wantCustomer := wire.Customer{Email: "ada@example.test", Name: "Ada Shopper", Phone: &phone,
		Address: &wire.Address{Line1: "1 Main St", City: "Springfield", PostalCode: "12345", Country: "US"}}
	if a.Payment.Status != "succeeded" || a.Payment.Amount != 1234 || a.Payment.Currency != "USD" ||
		a.Payment.PaymentForm == nil || *a.Payment.PaymentForm != f.ID || a.Payment.PaymentLink != nil ||
		!cmp.Equal(a.Payment.Customer, wantCustomer) || a.Payment.Metadata["campaign"] != "spring" ||
		a.RedirectURL == nil ||
		a.ReceiptURL != "http://paylink.test/embed/forms/"+f.ID+"/payments/"+a.Payment.ID+"?parent_origin=https%3A%2F%2Fshop.example" {
		t.Fatalf("answer = %s", res.Body)
	}
	e.WantSignedReturn(*a.RedirectURL, "https://shop.example/thanks", returnurl.Return{Payment: a.Payment.ID, Status: "succeeded", Source: f.ID})
	// A retry of the same attempt replays it; nothing is charged twice.
	again := e.Pay(path, formBody("4242424242424242", full), "attempt-1")
	if again.Status != 200 || string(again.Body) != string(res.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s", again.Status, again.Body)
	}
	// Each submission is a payment of its own.
	second := e.Pay(path, formBody("5555555555554444", with("amount", 500)), "attempt-2")
	if second.Status != http.StatusOK {
		t.Fatalf("second submission: %d %s", second.Status, second.Body)
	}
	declined := e.Pay(path, formBody("4000000000000002", full), "attempt-3")
	apitest.WantError(t, declined, http.StatusPaymentRequired, "card_declined")
	if p := apitest.PayAnswerOf(t, declined).Payment; p.Status != "failed" || *p.PaymentForm != f.ID {
		t.Fatalf("declined payment = %+v", p)
	}

	var got wire.Payment
	e.Do(apitest.Req{Method: "GET", Path: "/v1/payments/" + a.Payment.ID, Auth: &c}).Decode(t, &got)
	if got.Risk.V == nil || got.PaymentMethod.Fingerprint.V == nil || a.Payment.Risk.V != nil {
		t.Fatalf("risk: merchant sees %+v, shopper %+v; want it only for the merchant", got.Risk.V, a.Payment.Risk.V)
	}
	// The shopper's answer leaves out what only the merchant sees.
	got.Risk, got.Review, got.PaymentMethod.Fingerprint = a.Payment.Risk, a.Payment.Review, a.Payment.PaymentMethod.Fingerprint
	if diff := cmp.Diff(a.Payment, got); diff != "" {
		t.Fatalf("GET /v1/payments/{id} differs from the answer (-answer +get):\n%s", diff)
	}
	var list wire.List[wire.Payment]
	e.Do(apitest.Req{Method: "GET", Path: "/v1/payments?payment_form=" + f.ID, Auth: &c}).Decode(t, &list)
	if len(list.Data) != 3 {
		t.Fatalf("payments of the form = %d, want 3", len(list.Data))
	}
	e.Do(apitest.Req{Method: "GET", Path: "/v1/payments?status=succeeded&payment_form=" + f.ID, Auth: &c}).Decode(t, &list)
	if len(list.Data) != 2 {
		t.Fatalf("succeeded payments of the form = %d, want 2", len(list.Data))
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/payments?payment_form=plink_x", Auth: &c}), 400, "payment_form_invalid")
	for q, want := range map[string]int{
		`SELECT count(*) FROM events WHERE merchant_id = $1 AND type = 'payment.succeeded' AND data->>'payment_form' = $2`: 2,
		`SELECT count(*) FROM events WHERE merchant_id = $1 AND type = 'payment.failed' AND data->>'payment_form' = $2`:    1,
		`SELECT count(*) FROM pending_captures c JOIN payments p ON p.id = c.payment_id
		 WHERE p.merchant_id = $1 AND p.payment_form_id = $2`: 2,
	} {
		if n := e.Count(q, mid, f.ID); n != want {
			t.Errorf("%s = %d, want %d", q, n, want)
		}
	}
	e.WantBalance(c, "USD", 1734)

	// Refunds work on a form's payments.
	if r := e.Refund(c, a.Payment.ID, map[string]any{"amount": 234}); r.Status != http.StatusCreated {
		t.Fatalf("refund: %d %s", r.Status, r.Body)
	}
	e.WantBalance(c, "USD", 1500)
	e.Do(apitest.Req{Method: "GET", Path: "/v1/payments/" + a.Payment.ID, Auth: &c}).Decode(t, &got)
	if got.AmountRefunded != 234 {
		t.Fatalf("amount_refunded = %d", got.AmountRefunded)
	}

	// Once the form is turned off, submissions are refused; the retry of a
	// request that paid still gets its answer again.
	e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_forms/" + f.ID + "/deactivate", Auth: &c})
	apitest.WantError(t, e.Pay(path, formBody("4242424242424242", full), "attempt-4"), http.StatusGone, "form_inactive")
	if r := e.Pay(path, formBody("4242424242424242", full), "attempt-1"); r.Status != http.StatusOK ||
		string(r.Body) != string(res.Body) || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry of a paying request after deactivation: %d %s", r.Status, r.Body)
	}
	verifyLedger(t, e)
}

func TestFixedFormSubmissionRules(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("fixed@shop.test")
	f := e.CreateForm(c, map[string]any{"amount": 2500})
	path := embedURL(f.ID, apitest.ShopOrigin)
	apitest.WantError(t, e.Pay(path, formBody("4242424242424242", map[string]any{"amount": 100}), ""), 400, "amount_invalid")
	apitest.WantError(t, e.Pay(path, formBody("4242424242424242", map[string]any{"phone": "+15550100"}), ""), 400, "unknown_parameter")
	apitest.WantError(t, e.Pay(path, formBody("4242424242424242", map[string]any{"billing_address": testAddress}), ""), 400, "unknown_parameter")
	apitest.WantError(t, e.Pay("/embed/forms/pform_01m8000000000000000000000a", apitest.CardBody("4242424242424242"), ""), 404, "payment_form_not_found")
	// CSRF, as on the hosted checkout.
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: path, Body: apitest.CardBody("4242424242424242"),
		Header: map[string]string{"Content-Type": "application/json", "Origin": "https://shop.example"}}), 403, "origin_not_allowed")
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: path, Body: apitest.CardBody("4242424242424242"),
		Header: map[string]string{"Content-Type": "text/plain"}}), 400, "content_type_invalid")
	if n := e.Count(`SELECT count(*) FROM payments`); n != 0 {
		t.Fatalf("%d payments from refused submissions", n)
	}
	ok := e.Pay(path, formBody("4242424242424242", map[string]any{"amount": 2500}), "")
	if ok.Status != 200 || apitest.PayAnswerOf(t, ok).Payment.Amount != 2500 || apitest.PayAnswerOf(t, ok).RedirectURL != nil {
		t.Fatalf("fixed amount given explicitly: %d %s", ok.Status, ok.Body)
	}
	// The page's own requests (same origin) pass.
	res := e.Do(apitest.Req{Method: "POST", Path: path, Body: apitest.CardBody("4242424242424242"),
		Header: map[string]string{"Content-Type": "application/json", "Origin": "http://paylink.test", "Sec-Fetch-Site": "same-origin"}})
	if res.Status != 200 {
		t.Fatalf("same-origin submission: %d %s", res.Status, res.Body)
	}
}

func TestFormChallenge(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("form-challenge@shop.test")
	f := e.CreateForm(c, map[string]any{"allowed_origins": []string{apitest.ShopOrigin, "http://localhost:8081"}})
	res := e.Pay(embedURL(f.ID, "http://localhost:8081"), apitest.CardBody("4000000000003220"), "")
	a := apitest.PayAnswerOf(t, res)
	wantURL := "http://paylink.test/embed/forms/" + f.ID + "/payments/" + a.Payment.ID + "/challenge?parent_origin=http%3A%2F%2Flocalhost%3A8081"
	if res.Status != 200 || a.Payment.Status != "requires_action" || a.NextAction == nil || a.NextAction.URL != wantURL {
		t.Fatalf("challenge answer: %d %s", res.Status, res.Body)
	}
	challenge := strings.TrimPrefix(a.NextAction.URL, "http://paylink.test")
	page := e.Do(apitest.Req{Method: "GET", Path: challenge})
	if page.Status != 200 || !strings.Contains(string(page.Body), `id="approve"`) ||
		!cmp.Equal(frameAncestors(t, page), []string{apitest.ShopOrigin, "http://localhost:8081"}) ||
		dataAttr(page.Body, "data-parent-origin") != "http://localhost:8081" {
		t.Fatalf("challenge page: %d %v", page.Status, page.Header)
	}
	// Another form's id or another parent origin does not open it.
	other := e.CreateForm(c, map[string]any{"allowed_origins": []string{apitest.ShopOrigin, "http://localhost:8081"}})
	if r := e.Do(apitest.Req{Method: "GET", Path: strings.Replace(challenge, f.ID, other.ID, 1)}); r.Status != 404 {
		t.Fatalf("payment under another form: %d", r.Status)
	}
	if r := e.Do(apitest.Req{Method: "GET", Path: strings.Replace(challenge, "localhost", "evil", 1)}); r.Status != 403 {
		t.Fatalf("challenge with a bad parent origin: %d", r.Status)
	}

	res = e.Pay(challenge, map[string]string{"outcome": "approve"}, "approve-1")
	a = apitest.PayAnswerOf(t, res)
	if res.Status != 200 || a.Payment.Status != "succeeded" || !strings.Contains(a.ReceiptURL, "/embed/forms/"+f.ID+"/payments/") {
		t.Fatalf("approve: %d %s", res.Status, res.Body)
	}
	// The receipt inside the frame posts the success to the SDK.
	receipt := e.Do(apitest.Req{Method: "GET", Path: strings.TrimPrefix(a.ReceiptURL, "http://paylink.test")})
	var msg struct {
		Type    string
		Payment struct {
			ID, Status, Currency string
			Amount               int64
		}
	}
	if err := json.Unmarshal([]byte(dataAttr(receipt.Body, "data-message")), &msg); err != nil {
		t.Fatalf("receipt message: %v\n%s", err, receipt.Body)
	}
	if receipt.Status != 200 || msg.Type != "success" || msg.Payment.ID != a.Payment.ID || msg.Payment.Amount != 2500 ||
		msg.Payment.Currency != "USD" || msg.Payment.Status != "succeeded" {
		t.Fatalf("receipt: %d %+v", receipt.Status, msg)
	}
	// Answering again changes nothing; the challenge page now redirects.
	if r := e.Pay(challenge, map[string]string{"outcome": "fail"}, "fail-1"); r.Status != 200 || apitest.PayAnswerOf(t, r).Payment.Status != "succeeded" {
		t.Fatalf("second answer: %d %s", r.Status, r.Body)
	}
	// (The client follows the 303 to the receipt.)
	if r := e.Do(apitest.Req{Method: "GET", Path: challenge}); r.Status != 200 || !strings.Contains(string(r.Body), `data-status="succeeded"`) {
		t.Fatalf("challenge page of a finished payment: %d %s", r.Status, r.Body)
	}
	e.WantBalance(c, "USD", 2500)

	// A challenge still waiting when the form is turned off cannot be approved.
	res = e.Pay(embedURL(f.ID, apitest.ShopOrigin), apitest.CardBody("4000000000003220"), "")
	waiting := apitest.PayAnswerOf(t, res)
	e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_forms/" + f.ID + "/deactivate", Auth: &c})
	apitest.WantError(t, e.Pay(strings.TrimPrefix(waiting.NextAction.URL, "http://paylink.test"),
		map[string]string{"outcome": "approve"}, ""), http.StatusGone, "form_inactive")
	e.WantBalance(c, "USD", 2500)
}

// verifyLedger fails unless the ledger rebuilds to the stored balances
// and every transaction balances.
func verifyLedger(t *testing.T, e *apitest.Env) {
	t.Helper()
	rep, err := ledger.Verify(context.Background(), e.DB.Pool)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("ledger does not verify: %+v", rep)
	}
}

// scanForCardData searches every column of every table and every log line
// for the card numbers (also their first digits) and for card fields.
func scanForCardData(t *testing.T, e *apitest.Env, numbers []string) {
	t.Helper()
	ctx := context.Background()
	rows, err := e.DB.Pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var everything strings.Builder
	for _, table := range tables {
		rows, err := e.DB.Pool.Query(ctx, fmt.Sprintf(`SELECT t::text FROM %s t`, pgx.Identifier{table}.Sanitize()))
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			everything.WriteString(s + "\n")
		}
	}
	stored, logged := everything.String(), e.Logs.String()
	if !strings.Contains(stored, "4242") || logged == "" {
		t.Fatal("the scan found neither last4 nor log lines; it is not looking at the right data")
	}
	for _, n := range numbers {
		for where, text := range map[string]string{"database": stored, "logs": logged} {
			if strings.Contains(text, n) || strings.Contains(text, n[:8]) {
				t.Errorf("card number %s (or its first digits) found in the %s", n, where)
			}
		}
	}
	for where, text := range map[string]string{"database": stored, "logs": logged} {
		lower := strings.ToLower(text)
		if strings.Contains(lower, `"cvc"`) || strings.Contains(lower, "cvc=") || strings.Contains(lower, `"number"`) {
			t.Errorf("a card field (cvc or number) was found in the %s", where)
		}
	}
}

func TestFormAndSignedLinkCardDataNeverStored(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("pci-forms@shop.test")
	f := e.CreateForm(c, map[string]any{"collect": []string{"phone", "billing_address"}})
	numbers := []string{"4242424242424242", "5555555555554444", "4000000000000002", "4000000000009995",
		"4000000000000127", "4000000000003220", "4242424242424241"}
	for i, n := range numbers {
		e.Pay(embedURL(f.ID, apitest.ShopOrigin), formBody(n, map[string]any{"phone": "+15550100", "billing_address": testAddress}),
			fmt.Sprintf("form-%d", i))
		e.Pay(e.SignedPath(c, map[string]string{"ref": fmt.Sprintf("pci-%d", i)}), apitest.CardBody(n), fmt.Sprintf("signed-%d", i))
	}
	if n := e.Count(`SELECT count(*) FROM payments WHERE payment_form_id IS NOT NULL`); n < 6 {
		t.Fatalf("only %d form payments were made", n)
	}
	if n := e.Count(`SELECT count(*) FROM payments WHERE merchant_reference IS NOT NULL`); n < 6 {
		t.Fatalf("only %d signed link payments were made", n)
	}
	scanForCardData(t, e, numbers)
}
