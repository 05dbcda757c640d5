package merchantapi_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/wire"
)

// getMerchant is GET /v1/merchant's body, which must be 200.
func getMerchant(t *testing.T, e *apitest.Env, c apitest.Creds) wire.Merchant {
	t.Helper()
	res := e.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &c})
	if res.Status != http.StatusOK {
		t.Fatalf("GET /v1/merchant = %d %s", res.Status, res.Body)
	}
	var m wire.Merchant
	res.Decode(t, &m)
	return m
}

func patchMerchant(e *apitest.Env, c apitest.Creds, body any) apitest.Response {
	return e.Do(apitest.Req{Method: "PATCH", Path: "/v1/merchant", Auth: &c, Body: body})
}

// TestMerchantSettingsDefaultsAndPatch: a new merchant accepts everything
// the platform offers; PATCH changes only the fields it sends, answers
// the merchant as it now is, and another replica reads the same at once.
func TestMerchantSettingsDefaultsAndPatch(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("settings@shop.test")
	m := getMerchant(t, e, c)
	want := wire.Merchant{ID: m.ID, Name: "Shop settings", Email: "settings@shop.test", CreatedAt: m.CreatedAt,
		Currencies:     []string{"AUD", "CAD", "EUR", "GBP", "INR", "JPY", "USD"},
		PaymentMethods: []string{"card", "wallet"}, CardBrands: []string{"visa", "mastercard", "amex", "discover"},
		NotificationEmail: "settings@shop.test", NotifyOn: []string{"payment.succeeded"}, PaymentEmails: true}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("new merchant = %+v\nwant %+v", m, want)
	}

	res := patchMerchant(e, c, map[string]any{"currencies": []string{"eur", "usd", "EUR"}, "card_brands": []string{"Visa"},
		"notification_email": "Ops@Shop.test", "notify_on": []string{"payment.failed", "payment.refunded"}})
	if res.Status != http.StatusOK {
		t.Fatalf("PATCH = %d %s", res.Status, res.Body)
	}
	var patched wire.Merchant
	res.Decode(t, &patched)
	want.Currencies = []string{"EUR", "USD"}
	want.CardBrands = []string{"visa"}
	want.NotificationEmail = "ops@shop.test"
	want.NotifyOn = []string{"payment.failed", "payment.refunded"}
	want.PaymentEmails = false // payment_emails is notify_on's payment.succeeded
	if !reflect.DeepEqual(patched, want) {
		t.Fatalf("PATCH answered %+v\nwant %+v", patched, want)
	}
	if got := getMerchant(t, e.Replica(), c); !reflect.DeepEqual(got, want) {
		t.Fatalf("another replica reads %+v\nwant %+v", got, want)
	}

	// A second PATCH leaves what it does not name; null is "unchanged";
	// an empty notify_on stops every payment e-mail.
	res = patchMerchant(e, c, `{"name": "  Renamed  ", "payment_methods": ["wallet"], "currencies": null, "notify_on": []}`)
	if res.Status != http.StatusOK {
		t.Fatalf("second PATCH = %d %s", res.Status, res.Body)
	}
	want.Name, want.PaymentMethods, want.NotifyOn = "Renamed", []string{"wallet"}, []string{}
	if got := getMerchant(t, e, c); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the second PATCH %+v\nwant %+v", got, want)
	}
}

// TestMerchantSettingsRefuseBadInputAndChangeNothing: every code API.md
// Part 2 names for the settings, with its param; a refused PATCH changes
// no field, not even the valid ones sent with the bad one.
func TestMerchantSettingsRefuseBadInputAndChangeNothing(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("refuse@shop.test")
	before := getMerchant(t, e, c)
	valid := map[string]any{"name": "Would change", "notification_email": "new@shop.test"}
	tests := []struct {
		field      string
		value      any
		code       string
		param      string
		wantStatus int
	}{
		{"name", "", "name_invalid", "name", 400},
		{"name", string(make([]byte, 101)), "name_invalid", "name", 400},
		// The names sign-up refuses: shoppers read the name in receipts.
		{"name", "https://evil.com", "name_not_allowed", "name", 400},
		{"name", "Paylink Support", "name_not_allowed", "name", 400},
		{"name", "Mail support@evil.test", "name_not_allowed", "name", 400},
		{"currencies", []string{"USD", "XYZ"}, "currency_unsupported", "currencies", 400},
		{"currencies", []string{}, "currencies_invalid", "currencies", 400},
		{"payment_methods", []string{}, "payment_methods_invalid", "payment_methods", 400},
		{"payment_methods", []string{"card", "cash"}, "payment_methods_invalid", "payment_methods", 400},
		{"card_brands", []string{}, "card_brands_invalid", "card_brands", 400},
		{"card_brands", []string{"diners"}, "card_brands_invalid", "card_brands", 400},
		{"notify_on", []string{"payment.succeeded", "link.sent"}, "notify_on_invalid", "notify_on", 400},
		{"notification_email", "not-an-address", "email_invalid", "notification_email", 400},
		{"currencies", "USD", "parameter_invalid", "currencies", 400},
		{"payment_emails", true, "unknown_parameter", "payment_emails", 400},
	}
	for _, tt := range tests {
		body := map[string]any{tt.field: tt.value}
		for k, v := range valid {
			if k != tt.field {
				body[k] = v
			}
		}
		res := patchMerchant(e, c, body)
		apitest.WantError(t, res, tt.wantStatus, tt.code)
		var b struct {
			Error struct{ Param string } `json:"error"`
		}
		res.Decode(t, &b)
		if tt.param != "" && b.Error.Param != tt.param {
			t.Errorf("%s=%v: param %q, want %q", tt.field, tt.value, b.Error.Param, tt.param)
		}
		if got := getMerchant(t, e, c); !reflect.DeepEqual(got, before) {
			t.Fatalf("%s=%v was refused yet changed the merchant to %+v", tt.field, tt.value, got)
		}
	}
}

// TestSettingsDecideLinksAndCheckout: once a merchant drops a currency a
// new link in it is refused and an old one answers 410; a brand turned
// off is a 402 card_error with nothing charged or recorded.
func TestSettingsDecideLinksAndCheckout(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("decide@shop.test")
	eur := e.CreateLink(c, map[string]any{"currency": "EUR", "single_use": false})
	usd := e.CreateLink(c, map[string]any{"single_use": false})
	if res := patchMerchant(e, c, map[string]any{"currencies": []string{"USD"}, "card_brands": []string{"visa", "amex"}}); res.Status != 200 {
		t.Fatalf("PATCH = %d %s", res.Status, res.Body)
	}
	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links", Auth: &c,
		Body: map[string]any{"amount": 500, "currency": "EUR"}})
	apitest.WantError(t, res, 400, "currency_not_accepted")
	res = e.Pay(apitest.CheckoutPath(t, eur), apitest.CardBody("4242424242424242"), "")
	apitest.WantError(t, res, 410, "currency_no_longer_accepted")

	res = e.Pay(apitest.CheckoutPath(t, usd), apitest.CardBody("5555555555554444"), "")
	apitest.WantError(t, res, 402, "card_brand_not_accepted")
	if n := e.Count(`SELECT count(*) FROM payments`); n != 0 {
		t.Fatalf("%d payments recorded for refused attempts", n)
	}
	e.WantBalance(c, "USD", 0)
	if a := apitest.PayAnswerOf(t, e.Pay(apitest.CheckoutPath(t, usd), apitest.CardBody("4242424242424242"), "")); a.Payment.Status != "succeeded" {
		t.Fatalf("a Visa card after the change: %+v", a)
	}
	e.WantBalance(c, "USD", 2500)
}
