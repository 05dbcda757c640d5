package apitest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/returnurl"
	"github.com/paylink/paylink/internal/wire"
)

// CreateLink creates a payment link with body (amount 2500 USD unless
// given) and returns it.
func (e *Env) CreateLink(c Creds, body map[string]any) wire.PaymentLink {
	e.T.Helper()
	if body == nil {
		body = map[string]any{}
	}
	if _, ok := body["amount"]; !ok {
		body["amount"] = 2500
	}
	if _, ok := body["currency"]; !ok {
		body["currency"] = "usd"
	}
	res := e.Do(Req{Method: "POST", Path: "/v1/payment_links", Auth: &c, Body: body})
	if res.Status != http.StatusCreated {
		e.T.Fatalf("create link: %d %s", res.Status, res.Body)
	}
	var l wire.PaymentLink
	res.Decode(e.T, &l)
	return l
}

// CheckoutPath is the path and query of a link's URL, to call on the test
// server.
func CheckoutPath(t *testing.T, link wire.PaymentLink) string {
	t.Helper()
	u, err := url.Parse(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path + "?" + u.RawQuery
}

// CardBody is a checkout body paying with card number.
func CardBody(number string) map[string]any {
	cvc := "123"
	if strings.HasPrefix(number, "37") || strings.HasPrefix(number, "34") {
		cvc = "1234"
	}
	return map[string]any{"email": "ada@example.test", "name": "Ada Shopper",
		"payment_method": map[string]any{"type": "card",
			"card": map[string]any{"number": number, "exp_month": 12, "exp_year": 2040, "cvc": cvc}}}
}

// Pay POSTs body to a checkout path as the page does, with key as
// Idempotency-Key when not empty.
func (e *Env) Pay(path string, body any, key string) Response {
	e.T.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	if key != "" {
		h["Idempotency-Key"] = key
	}
	return e.Do(Req{Method: "POST", Path: path, Body: body, Header: h})
}

// PayAnswer is the JSON answer of the checkout's POSTs (API.md): the
// payment, where to go next, and for a decline the card_error.
type PayAnswer struct {
	Error       *edge.ErrorDetail `json:"error"`
	Payment     wire.Payment      `json:"payment"`
	RedirectURL *string           `json:"redirect_url"`
	ReceiptURL  string            `json:"receipt_url"`
	NextAction  *struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"next_action"`
}

// PayAnswerOf decodes a checkout answer.
func PayAnswerOf(t *testing.T, res Response) PayAnswer {
	t.Helper()
	var a PayAnswer
	res.Decode(t, &a)
	return a
}

// Count returns the rows of a table (or any COUNT query).
func (e *Env) Count(query string, args ...any) int {
	e.T.Helper()
	var n int
	if err := e.DB.Pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		e.T.Fatalf("%s: %v", query, err)
	}
	return n
}

// WantBalance fails unless GET /v1/balance shows want in currency.
func (e *Env) WantBalance(c Creds, currency string, want int64) {
	e.T.Helper()
	res := e.Do(Req{Method: "GET", Path: "/v1/balance", Auth: &c})
	var b wire.Balance
	res.Decode(e.T, &b)
	var got int64
	for _, m := range b.Available {
		if m.Currency == currency {
			got = m.Amount
		}
	}
	if res.Status != http.StatusOK || got != want {
		e.T.Fatalf("balance %s = %d (%s), want %d", currency, got, res.Body, want)
	}
}

// Challenge starts a challenge-card payment on l and returns the answer.
func (e *Env) Challenge(l wire.PaymentLink) PayAnswer {
	e.T.Helper()
	res := e.Pay(CheckoutPath(e.T, l), CardBody("4000000000003220"), "")
	a := PayAnswerOf(e.T, res)
	if res.Status != http.StatusOK || a.Payment.Status != "requires_action" || a.NextAction == nil {
		e.T.Fatalf("challenge card: %d %s", res.Status, res.Body)
	}
	return a
}

// PathOf is the path and query of a URL the server answered.
func PathOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path + "?" + u.RawQuery
}

// Answer answers the challenge at challengeURL with outcome ("approve"
// or "fail"), as the challenge page does.
func (e *Env) Answer(challengeURL, outcome, key string) Response {
	e.T.Helper()
	return e.Pay(PathOf(e.T, challengeURL), map[string]string{"outcome": outcome}, key)
}

// Paid makes a succeeded payment of amount (USD) for c and returns it.
func (e *Env) Paid(c Creds, amount int) wire.Payment {
	e.T.Helper()
	l := e.CreateLink(c, map[string]any{"amount": amount})
	res := e.Pay(CheckoutPath(e.T, l), CardBody("4242424242424242"), "")
	if res.Status != http.StatusOK {
		e.T.Fatalf("pay: %d %s", res.Status, res.Body)
	}
	return PayAnswerOf(e.T, res).Payment
}

// Refund asks for a refund of payment payID with body.
func (e *Env) Refund(c Creds, payID string, body any) Response {
	e.T.Helper()
	return e.Do(Req{Method: "POST", Path: "/v1/payments/" + payID + "/refunds", Auth: &c, Body: body})
}

// ShopOrigin is the merchant's site in the form tests.
const ShopOrigin = "https://shop.example"

// CreateForm creates a payment form with body (a fixed 2500 USD form
// allowed on ShopOrigin unless given) and returns it.
func (e *Env) CreateForm(c Creds, body map[string]any) wire.PaymentForm {
	e.T.Helper()
	if body == nil {
		body = map[string]any{}
	}
	defaults := map[string]any{"title": "Donation", "currency": "usd", "allowed_origins": []string{ShopOrigin}}
	for k, v := range defaults {
		if _, ok := body[k]; !ok {
			body[k] = v
		}
	}
	_, hasMin := body["amount_min"]
	if _, ok := body["amount"]; !ok && !hasMin {
		body["amount"] = 2500
	}
	res := e.Do(Req{Method: "POST", Path: "/v1/payment_forms", Auth: &c, Body: body})
	if res.Status != http.StatusCreated {
		e.T.Fatalf("create form: %d %s", res.Status, res.Body)
	}
	var f wire.PaymentForm
	res.Decode(e.T, &f)
	return f
}

// WantSignedReturn fails unless got is target with a signed return added
// (API.md, "Signed return to the merchant's site") that verifies, with
// the keys the server publishes, as want, and stops verifying once its
// status is edited.
func (e *Env) WantSignedReturn(got, target string, want returnurl.Return) {
	e.T.Helper()
	res := e.Do(Req{Method: "GET", Path: "/.well-known/paylink-keys.json"})
	var keys wire.ReturnKeys
	res.Decode(e.T, &keys)
	if res.Status != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != "*" || len(keys.Keys) == 0 {
		e.T.Fatalf("GET /.well-known/paylink-keys.json = %d %v %s", res.Status, res.Header, res.Body)
	}
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	if !strings.HasPrefix(got, target+sep+"paylink_payment=") {
		e.T.Fatalf("return URL %s does not start with %s%spaylink_payment=", got, target, sep)
	}
	r, _, err := returnurl.Verify(got, keys)
	if err != nil || r != want {
		e.T.Fatalf("return URL %s verifies as %+v, %v; want %+v", got, r, err, want)
	}
	edited := strings.Replace(got, "paylink_status="+want.Status, "paylink_status=succeeded_", 1)
	if _, _, err := returnurl.Verify(edited, keys); err == nil || edited == got {
		e.T.Fatalf("an edited return URL still verifies: %s", edited)
	}
}
