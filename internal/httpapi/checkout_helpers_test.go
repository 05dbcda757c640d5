package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/wire"
)

// createLink creates a payment link with body (amount 2500 USD unless
// given) and returns it.
func (e *env) createLink(c creds, body map[string]any) wire.PaymentLink {
	e.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	if _, ok := body["amount"]; !ok {
		body["amount"] = 2500
	}
	if _, ok := body["currency"]; !ok {
		body["currency"] = "usd"
	}
	res := e.do(req{Method: "POST", Path: "/v1/payment_links", Auth: &c, Body: body})
	if res.Status != http.StatusCreated {
		e.t.Fatalf("create link: %d %s", res.Status, res.Body)
	}
	var l wire.PaymentLink
	res.decode(e.t, &l)
	return l
}

// checkoutPath is the path and query of a link's URL, to call on the test
// server.
func checkoutPath(t *testing.T, link wire.PaymentLink) string {
	t.Helper()
	u, err := url.Parse(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path + "?" + u.RawQuery
}

// card returns a checkout body paying with number.
func cardBody(number string) map[string]any {
	cvc := "123"
	if strings.HasPrefix(number, "37") || strings.HasPrefix(number, "34") {
		cvc = "1234"
	}
	return map[string]any{"email": "ada@example.test", "name": "Ada Shopper",
		"payment_method": map[string]any{"type": "card",
			"card": map[string]any{"number": number, "exp_month": 12, "exp_year": 2040, "cvc": cvc}}}
}

// pay POSTs body to a checkout path as the page does, with key as
// Idempotency-Key when not empty.
func (e *env) pay(path string, body any, key string) response {
	e.t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	if key != "" {
		h["Idempotency-Key"] = key
	}
	return e.do(req{Method: "POST", Path: path, Body: body, Header: h})
}

// payAnswerOf decodes a checkout answer.
func payAnswerOf(t *testing.T, res response) payAnswer {
	t.Helper()
	var a payAnswer
	res.decode(t, &a)
	return a
}

// count returns the rows of a table (or any COUNT query).
func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantBalance fails unless GET /v1/balance shows want in currency.
func (e *env) wantBalance(c creds, currency string, want int64) {
	e.t.Helper()
	res := e.do(req{Method: "GET", Path: "/v1/balance", Auth: &c})
	var b wire.Balance
	res.decode(e.t, &b)
	var got int64
	for _, m := range b.Available {
		if m.Currency == currency {
			got = m.Amount
		}
	}
	if res.Status != http.StatusOK || got != want {
		e.t.Fatalf("balance %s = %d (%s), want %d", currency, got, res.Body, want)
	}
}
