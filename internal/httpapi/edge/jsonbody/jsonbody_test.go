package jsonbody

import (
	"errors"
	"testing"

	"github.com/paylink/paylink/internal/apperr"
)

type card struct {
	Number   string `json:"number"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
	CVC      string `json:"cvc"`
}

type payBody struct {
	Email         string `json:"email"`
	Name          string `json:"name"`
	PaymentMethod struct {
		Type string `json:"type"`
		Card *card  `json:"card"`
	} `json:"payment_method"`
	Amount *int64 `json:"amount"`
}

// payJSON is what the hosted checkout page sends to pay (API.md).
const payJSON = `{"email": "shopper@example.test", "name": "Ada Shopper",
 "payment_method": {"type": "card",
   "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}}`

// TestDecode: a body is one JSON object of the fields the route takes, of
// their types; anything else is refused with API.md's code and param.
func TestDecode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, code, param string
	}{
		{"pay", payJSON, "", ""},
		{"blank", "  \n", "", ""},
		{"array", `[]`, "invalid_json", ""},
		{"two values", `{} {}`, "invalid_json", ""},
		{"malformed", `{"email":`, "invalid_json", ""},
		{"unknown", `{"emial":"a@b.test"}`, "unknown_parameter", "emial"},
		{"unknown nested", `{"payment_method":{"card":{"pin":"1"}}}`, "unknown_parameter", "payment_method.card.pin"},
		{"amount type", `{"amount":"19.99"}`, "amount_invalid", "amount"},
		{"other type", `{"name":1}`, "parameter_invalid", "name"},
		{"repeated key", `{"amount":100,"amount":1}`, "duplicate_parameter", "amount"},
		{"repeated escaped key", `{"name":"a","n\u0061me":"b"}`, "duplicate_parameter", "name"},
		{"repeated nested key", `{"payment_method":{"type":"card","card":{"number":"4242424242424242","cvc":"1","cvc":"2"}}}`, "duplicate_parameter", "payment_method.card.cvc"},
		{"repeated key in an array's object", `{"x":[1,{"a":[],"a":2}]}`, "duplicate_parameter", "x.a"},
		{"same key in two objects", `{"name":"a","payment_method":{"type":"card","card":{"name":"b"}}}`, "unknown_parameter", "payment_method.card.name"},
		{"escaped quote in a key", `{"a\"b":1,"a\"c":2}`, "unknown_parameter", "a\"b"},
	} {
		var dst payBody
		_, err := Decode([]byte(tc.body), &dst)
		var ae *apperr.Error
		switch {
		case tc.code == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.code == "":
		case !errors.As(err, &ae) || ae.Code != tc.code || ae.Param != tc.param:
			t.Errorf("%s: %v; want %s (param %q)", tc.name, err, tc.code, tc.param)
		}
	}
}

// TestDecodeCanonical: the same object spelled differently has one
// canonical form, the idempotency fingerprint's input.
func TestDecodeCanonical(t *testing.T) {
	t.Parallel()
	var a, b payBody
	ca, err := Decode([]byte(`{"name":"A","email":"e@x.test"}`), &a)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := Decode([]byte(" {\"email\" : \"e@x.test\",\n\"name\":\"A\"} "), &b)
	if err != nil {
		t.Fatal(err)
	}
	if string(ca) != string(cb) || string(ca) != `{"email":"e@x.test","name":"A"}` {
		t.Errorf("canonical forms %s and %s", ca, cb)
	}
}

// BenchmarkDecodePay decodes the checkout's pay body, the hot path.
func BenchmarkDecodePay(b *testing.B) {
	raw := []byte(payJSON)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var dst payBody
		if _, err := Decode(raw, &dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDuplicateKeyPay is the repeated-key check alone on the pay
// body: what it adds to every checkout attempt.
func BenchmarkDuplicateKeyPay(b *testing.B) {
	raw := []byte(payJSON)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if d := duplicateKey(raw); d != "" {
			b.Fatal(d)
		}
	}
}
