package merchantapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/wire"
)

func TestCreatePaymentLink(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("links@shop.test")
	before := e.Clock.Now()
	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links", Auth: &c, Body: map[string]any{
		"amount": 2500, "currency": "usd", "description": "Blue mug", "expires_in": 3600, "single_use": true,
		"success_url": "https://shop.test/ok", "cancel_url": "https://shop.test/cancel",
		"metadata": map[string]string{"order_id": "A-17"}}})
	if res.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	var l wire.PaymentLink
	res.Decode(t, &l)
	if !strings.HasPrefix(l.ID, "plink_") || l.Status != "active" || l.Amount != 2500 || l.Currency != "USD" ||
		l.Description != "Blue mug" || !l.SingleUse || l.Metadata["order_id"] != "A-17" ||
		l.SuccessURL == nil || *l.SuccessURL != "https://shop.test/ok" {
		t.Fatalf("link = %+v", l)
	}
	exp, _ := time.Parse(time.RFC3339, l.ExpiresAt)
	if d := exp.Sub(before); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("expires_at %s is not an hour after creation", l.ExpiresAt)
	}
	u, err := url.Parse(l.URL)
	if err != nil || u.Scheme+"://"+u.Host != "http://paylink.test" || u.Path != "/pay/"+l.ID {
		t.Fatalf("url = %s", l.URL)
	}
	q := u.Query()
	if q.Get("exp") != strconv.FormatInt(exp.Unix(), 10) || q.Get("kid") != "t1" || q.Get("sig") == "" {
		t.Fatalf("url query = %v", q)
	}
	got := e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_links/" + l.ID, Auth: &c})
	var again wire.PaymentLink
	got.Decode(t, &again)
	if got.Status != http.StatusOK || again.ID != l.ID || again.URL != l.URL {
		t.Fatalf("get = %d %s", got.Status, got.Body)
	}
	// URLs read as URLs in the raw answers: no \u0026 for '&'.
	for _, body := range [][]byte{res.Body, got.Body} {
		if !strings.Contains(string(body), `"url":"`+l.URL+`"`) {
			t.Errorf("the answer does not carry the url verbatim: %s", body)
		}
	}
	// Defaults: single use, 24 hours, empty metadata, null URLs.
	d := e.CreateLink(c, nil)
	dexp, _ := time.Parse(time.RFC3339, d.ExpiresAt)
	if !d.SingleUse || d.Metadata == nil || len(d.Metadata) != 0 || d.SuccessURL != nil ||
		dexp.Sub(before) < 23*time.Hour+59*time.Minute {
		t.Errorf("defaults = %+v", d)
	}
	// Another merchant cannot see it.
	_, other := e.SignUp("other@shop.test")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_links/" + l.ID, Auth: &other}), 404, "payment_link_not_found")
}

func TestCreatePaymentLinkRejectsBadInput(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("bad-links@shop.test")
	at := func(d time.Duration) string { return e.Clock.Now().Add(d).UTC().Format(time.RFC3339) }
	many := map[string]string{}
	for i := range 21 {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	tests := []struct {
		name  string
		body  string
		code  string
		param string
	}{
		{"zero", `{"amount":0,"currency":"USD"}`, "amount_invalid", "amount"},
		{"negative", `{"amount":-5,"currency":"USD"}`, "amount_invalid", "amount"},
		{"float", `{"amount":19.99,"currency":"USD"}`, "amount_invalid", "amount"},
		{"string", `{"amount":"2500","currency":"USD"}`, "amount_invalid", "amount"},
		{"too big", `{"amount":100000000,"currency":"USD"}`, "amount_invalid", "amount"},
		{"missing amount", `{"currency":"USD"}`, "amount_invalid", "amount"},
		{"currency", `{"amount":100,"currency":"DOGE"}`, "currency_unsupported", "currency"},
		{"currency known but not accepted", `{"amount":100,"currency":"BHD"}`, "currency_unsupported", "currency"},
		{"both expiries", fmt.Sprintf(`{"amount":100,"currency":"USD","expires_in":600,"expires_at":%q}`, at(time.Hour)), "expiry_invalid", "expires_in"},
		{"expires_in too short", `{"amount":100,"currency":"USD","expires_in":59}`, "expiry_invalid", "expires_in"},
		{"expires_in too long", `{"amount":100,"currency":"USD","expires_in":7776001}`, "expiry_invalid", "expires_in"},
		{"expires_in fraction", `{"amount":100,"currency":"USD","expires_in":60.5}`, "expiry_invalid", "expires_in"},
		{"expires_at past", fmt.Sprintf(`{"amount":100,"currency":"USD","expires_at":%q}`, at(-time.Hour)), "expiry_invalid", "expires_at"},
		{"expires_at too far", fmt.Sprintf(`{"amount":100,"currency":"USD","expires_at":%q}`, at(91*24*time.Hour)), "expiry_invalid", "expires_at"},
		{"expires_at not rfc3339", `{"amount":100,"currency":"USD","expires_at":"tomorrow"}`, "expiry_invalid", "expires_at"},
		{"21 metadata keys", fmt.Sprintf(`{"amount":100,"currency":"USD","metadata":%s}`, jsonOf(t, many)), "metadata_invalid", "metadata"},
		{"metadata key too long", fmt.Sprintf(`{"amount":100,"currency":"USD","metadata":{%q:"v"}}`, strings.Repeat("k", 41)), "metadata_invalid", ""},
		{"metadata value too long", fmt.Sprintf(`{"amount":100,"currency":"USD","metadata":{"k":%q}}`, strings.Repeat("v", 501)), "metadata_invalid", "metadata.k"},
		{"metadata empty key", `{"amount":100,"currency":"USD","metadata":{"":"v"}}`, "metadata_invalid", "metadata."},
		{"metadata number value", `{"amount":100,"currency":"USD","metadata":{"k":5}}`, "metadata_invalid", "metadata"},
		{"description too long", fmt.Sprintf(`{"amount":100,"currency":"USD","description":%q}`, strings.Repeat("d", 501)), "description_invalid", "description"},
		{"javascript url", `{"amount":100,"currency":"USD","success_url":"javascript:alert(1)"}`, "url_invalid", "success_url"},
		{"relative url", `{"amount":100,"currency":"USD","cancel_url":"/cancel"}`, "url_invalid", "cancel_url"},
		{"url with password", `{"amount":100,"currency":"USD","success_url":"https://u:p@shop.test/"}`, "url_invalid", "success_url"},
		{"unknown field", `{"amount":100,"currency":"USD","colour":"blue"}`, "unknown_parameter", "colour"},
		{"single_use string", `{"amount":100,"currency":"USD","single_use":"yes"}`, "parameter_invalid", "single_use"},
		{"not json", `{"amount":`, "invalid_json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links", Auth: &c, Body: tt.body})
			apitest.WantError(t, res, http.StatusBadRequest, tt.code)
			var b edge.ErrorBody
			res.Decode(t, &b)
			if tt.param != "" && !strings.HasPrefix(b.Error.Param, tt.param) {
				t.Errorf("param = %q, want %q", b.Error.Param, tt.param)
			}
		})
	}
	if n := e.Count(`SELECT count(*) FROM payment_links`); n != 0 {
		t.Fatalf("%d links stored by rejected requests", n)
	}
	// The limits themselves are accepted.
	twenty := map[string]any{}
	for i := range 20 {
		twenty[fmt.Sprintf("%s%02d", strings.Repeat("k", 38), i)] = strings.Repeat("v", 500)
	}
	e.CreateLink(c, map[string]any{"amount": 99999999, "currency": "JPY", "expires_in": 60, "metadata": twenty,
		"description": strings.Repeat("é", 500)})
	e.CreateLink(c, map[string]any{"amount": 1, "expires_in": 7776000})
	e.CreateLink(c, map[string]any{"amount": 1, "expires_at": at(89 * 24 * time.Hour)})
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	return string(mustJSON(t, v))
}

func TestPaymentLinkCreationIsIdempotent(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("idem-links@shop.test")
	body := map[string]any{"amount": 500, "currency": "EUR"}
	h := map[string]string{"Idempotency-Key": "order-17"}
	first := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links", Auth: &c, Body: body, Header: h})
	second := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links", Auth: &c, Body: body, Header: h})
	if first.Status != 201 || second.Status != 201 || string(first.Body) != string(second.Body) ||
		second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s / %d %s", first.Status, first.Body, second.Status, second.Body)
	}
	if n := e.Count(`SELECT count(*) FROM payment_links`); n != 1 {
		t.Fatalf("%d links, want 1", n)
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links", Auth: &c,
		Body: map[string]any{"amount": 501, "currency": "EUR"}, Header: h}), 422, "idempotency_key_reused")
}

func TestListPaymentLinks(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("list-links@shop.test")
	var made []wire.PaymentLink
	for i := range 5 {
		made = append(made, e.CreateLink(c, map[string]any{"amount": 100 + i, "expires_in": 600 + i*3600}))
	}
	e.SignUp("noise@shop.test")
	var page wire.List[wire.PaymentLink]
	e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_links?limit=2", Auth: &c}).Decode(t, &page)
	if len(page.Data) != 2 || !page.HasMore || page.Data[0].ID != made[4].ID || page.Data[1].ID != made[3].ID {
		t.Fatalf("first page = %+v", page)
	}
	e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_links?limit=10&starting_after=" + made[3].ID, Auth: &c}).Decode(t, &page)
	if len(page.Data) != 3 || page.HasMore || page.Data[2].ID != made[0].ID {
		t.Fatalf("second page = %+v", page)
	}
	// Deactivate one, let the first expire: filters use the status as read now.
	e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links/" + made[1].ID + "/deactivate", Auth: &c})
	e.Clock.Advance(700 * time.Second)
	for status, want := range map[string][]string{
		"expired":     {made[0].ID},
		"deactivated": {made[1].ID},
		"active":      {made[4].ID, made[3].ID, made[2].ID},
		"completed":   nil,
	} {
		e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_links?status=" + status, Auth: &c}).Decode(t, &page)
		var got []string
		for _, l := range page.Data {
			got = append(got, l.ID)
			if l.Status != status {
				t.Errorf("status filter %s returned a %s link", status, l.Status)
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("status=%s: %v, want %v", status, got, want)
		}
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_links?status=paid", Auth: &c}), 400, "status_invalid")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_links?limit=0", Auth: &c}), 400, "limit_invalid")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_links?starting_after=pay_x", Auth: &c}), 400, "starting_after_invalid")
}

func TestDeactivatePaymentLink(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("deactivate@shop.test")
	l := e.CreateLink(c, nil)
	path := apitest.CheckoutPath(t, l)
	if res := e.Do(apitest.Req{Method: "GET", Path: path}); res.Status != http.StatusOK {
		t.Fatalf("page before deactivation: %d", res.Status)
	}
	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links/" + l.ID + "/deactivate", Auth: &c})
	var d wire.PaymentLink
	res.Decode(t, &d)
	if res.Status != http.StatusOK || d.Status != "deactivated" {
		t.Fatalf("deactivate: %d %s", res.Status, res.Body)
	}
	page := e.Do(apitest.Req{Method: "GET", Path: path})
	if page.Status != http.StatusGone || !strings.Contains(string(page.Body), "no longer active") {
		t.Fatalf("page after deactivation: %d %s", page.Status, page.Body)
	}
	apitest.WantError(t, e.Pay(path, apitest.CardBody("4242424242424242"), ""), http.StatusGone, "link_deactivated")
	// Again: unchanged, still 200.
	again := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links/" + l.ID + "/deactivate", Auth: &c})
	if again.Status != http.StatusOK || !strings.Contains(string(again.Body), `"deactivated"`) {
		t.Fatalf("second deactivate: %d %s", again.Status, again.Body)
	}
	_, other := e.SignUp("not-mine@shop.test")
	mine := e.CreateLink(c, nil)
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links/" + mine.ID + "/deactivate", Auth: &other}), 404, "payment_link_not_found")
	if n := e.Count(`SELECT count(*) FROM payment_links WHERE status = 'deactivated'`); n != 1 {
		t.Fatalf("another merchant's request deactivated a link: %d deactivated", n)
	}
	if n := e.Count(`SELECT count(*) FROM payments`); n != 0 {
		t.Fatalf("%d payments on a deactivated link", n)
	}
}

// TestDeactivationBeatsTheLinkCache pays a reusable link (so the checkout
// has it cached as active), deactivates it, and pays again: the database
// refuses the payment in its own insert, nothing is recorded, and the
// authorization is released.
func TestDeactivationBeatsTheLinkCache(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("cache@shop.test")
	l := e.CreateLink(c, map[string]any{"single_use": false})
	path := apitest.CheckoutPath(t, l)
	if res := e.Pay(path, apitest.CardBody("4242424242424242"), ""); res.Status != http.StatusOK {
		t.Fatalf("first payment: %d %s", res.Status, res.Body)
	}
	e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links/" + l.ID + "/deactivate", Auth: &c})
	for _, number := range []string{"4242424242424242", "4000000000000002", "4242424242424242"} {
		apitest.WantError(t, e.Pay(path, apitest.CardBody(number), ""), http.StatusGone, "link_deactivated")
	}
	if n := e.Count(`SELECT count(*) FROM payments WHERE payment_link_id = $1`, l.ID); n != 1 {
		t.Fatalf("%d payments, want only the one before deactivation", n)
	}
	e.WantBalance(c, "USD", 2500)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
