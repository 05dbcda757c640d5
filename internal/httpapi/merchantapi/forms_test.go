package merchantapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/wire"
)

func TestCreatePaymentForm(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("forms@shop.test")
	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_forms", Auth: &c, Body: map[string]any{
		"title": " Support us ", "description": "Any amount helps", "currency": "eur",
		"amount_min": 500, "amount_max": 50000, "collect": []string{"billing_address", "phone"},
		"allowed_origins": []string{"HTTPS://Shop.Example:443/", "http://localhost:8081"},
		"success_url":     "https://shop.example/thanks", "metadata": map[string]string{"campaign": "spring"},
	}})
	if res.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	var f wire.PaymentForm
	res.Decode(t, &f)
	min, max := int64(500), int64(50000)
	success := "https://shop.example/thanks"
	want := wire.PaymentForm{ID: f.ID, URL: "http://paylink.test/embed/forms/" + f.ID, Status: "active",
		Title: "Support us", Description: "Any amount helps", Currency: "EUR", AmountMin: &min, AmountMax: &max,
		Collect:        []string{"email", "name", "phone", "billing_address"},
		AllowedOrigins: []string{"https://shop.example", "http://localhost:8081"}, SuccessURL: &success,
		Metadata: map[string]string{"campaign": "spring"}, CreatedAt: f.CreatedAt}
	if diff := cmp.Diff(want, f); diff != "" || !strings.HasPrefix(f.ID, "pform_") {
		t.Fatalf("created form (-want +got):\n%s", diff)
	}
	got := e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_forms/" + f.ID, Auth: &c})
	var again wire.PaymentForm
	got.Decode(t, &again)
	if diff := cmp.Diff(f, again); got.Status != http.StatusOK || diff != "" {
		t.Fatalf("GET answers differently (-created +got):\n%s", diff)
	}

	fixed := e.CreateForm(c, map[string]any{"amount": 1999})
	if fixed.Amount == nil || *fixed.Amount != 1999 || fixed.AmountMin != nil || fixed.AmountMax != nil ||
		!cmp.Equal(fixed.Collect, []string{"email", "name"}) {
		t.Fatalf("fixed form = %+v", fixed)
	}

	// Another merchant sees none of it.
	_, other := e.SignUp("other-forms@shop.test")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_forms/" + f.ID, Auth: &other}), 404, "payment_form_not_found")
}

func TestCreatePaymentFormRejectsBadInputAndChangesNothing(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("bad-forms@shop.test")
	good := func() map[string]any {
		return map[string]any{"title": "Mug", "currency": "USD", "amount": 2500, "allowed_origins": []string{apitest.ShopOrigin}}
	}
	with := func(k string, v any) map[string]any {
		b := good()
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	tests := []struct {
		name  string
		body  any
		code  string
		param string
	}{
		{"no amount", with("amount", nil), "amount_invalid", "amount"},
		{"zero amount", with("amount", 0), "amount_invalid", "amount"},
		{"float amount", with("amount", 25.5), "amount_invalid", "amount"},
		{"string amount", with("amount", "2500"), "amount_invalid", "amount"},
		{"huge amount", with("amount", 100000000), "amount_invalid", "amount"},
		{"amount and range", func() map[string]any { b := good(); b["amount_min"], b["amount_max"] = 1, 2; return b }(), "amount_invalid", "amount"},
		{"min only", func() map[string]any { b := with("amount", nil); b["amount_min"] = 100; return b }(), "amount_invalid", "amount"},
		{"min above max", func() map[string]any { b := with("amount", nil); b["amount_min"], b["amount_max"] = 500, 499; return b }(), "amount_invalid", "amount_max"},
		{"negative min", func() map[string]any { b := with("amount", nil); b["amount_min"], b["amount_max"] = -1, 499; return b }(), "amount_invalid", "amount_min"},
		{"currency", with("currency", "XYZ"), "currency_unsupported", "currency"},
		{"no title", with("title", "  "), "title_invalid", "title"},
		{"long title", with("title", strings.Repeat("t", 101)), "title_invalid", "title"},
		{"long description", with("description", strings.Repeat("d", 501)), "description_invalid", "description"},
		{"unknown field", with("collect", []string{"email", "shoe_size"}), "collect_invalid", "collect"},
		{"field twice", with("collect", []string{"phone", "phone"}), "collect_invalid", "collect"},
		{"collect not a list", with("collect", "phone"), "parameter_invalid", "collect"},
		{"no origins", with("allowed_origins", []string{}), "allowed_origins_invalid", "allowed_origins"},
		{"origins missing", with("allowed_origins", nil), "allowed_origins_invalid", "allowed_origins"},
		{"origin with path", with("allowed_origins", []string{"https://shop.example/checkout"}), "allowed_origins_invalid", "allowed_origins"},
		{"wildcard origin", with("allowed_origins", []string{apitest.ShopOrigin, "https://*.shop.example"}), "allowed_origins_invalid", "allowed_origins"},
		{"http origin", with("allowed_origins", []string{"http://shop.example"}), "allowed_origins_invalid", "allowed_origins"},
		{"same origin twice", with("allowed_origins", []string{apitest.ShopOrigin, "https://SHOP.example:443"}), "allowed_origins_invalid", "allowed_origins"},
		{"eleven origins", with("allowed_origins", func() []string {
			var o []string
			for i := range 11 {
				o = append(o, fmt.Sprintf("https://s%d.example", i))
			}
			return o
		}()), "allowed_origins_invalid", "allowed_origins"},
		{"success url", with("success_url", "javascript:alert(1)"), "url_invalid", "success_url"},
		{"metadata", with("metadata", map[string]string{"": "x"}), "metadata_invalid", "metadata."},
		{"unknown parameter", with("single_use", true), "unknown_parameter", "single_use"},
		{"malformed JSON", `{"title":`, "invalid_json", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_forms", Auth: &c, Body: tc.body})
			apitest.WantError(t, res, http.StatusBadRequest, tc.code)
			var b edge.ErrorBody
			res.Decode(t, &b)
			if b.Error.Param != tc.param {
				t.Errorf("param = %q, want %q", b.Error.Param, tc.param)
			}
		})
	}
	if n := e.Count(`SELECT count(*) FROM payment_forms`); n != 0 {
		t.Fatalf("%d forms stored by refused requests", n)
	}
}

func TestPaymentFormsListIdempotencyAndDeactivation(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("list-forms@shop.test")
	body := map[string]any{"title": "Mug", "currency": "USD", "amount": 2500, "allowed_origins": []string{apitest.ShopOrigin}}
	h := map[string]string{"Idempotency-Key": "form-1"}
	first := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_forms", Auth: &c, Body: body, Header: h})
	second := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_forms", Auth: &c, Body: body, Header: h})
	if first.Status != 201 || second.Status != 201 || string(first.Body) != string(second.Body) ||
		second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s / %d %s", first.Status, first.Body, second.Status, second.Body)
	}
	body["amount"] = 2600
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_forms", Auth: &c, Body: body, Header: h}), 422, "idempotency_key_reused")
	var f wire.PaymentForm
	first.Decode(t, &f)
	b := e.CreateForm(c, nil)
	cc := e.CreateForm(c, nil)
	if n := e.Count(`SELECT count(*) FROM payment_forms`); n != 3 {
		t.Fatalf("%d forms, want 3 (the replay made none)", n)
	}

	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_forms/" + b.ID + "/deactivate", Auth: &c})
	var off wire.PaymentForm
	res.Decode(t, &off)
	if res.Status != 200 || off.Status != "inactive" || off.DeactivatedAt == nil {
		t.Fatalf("deactivate: %d %s", res.Status, res.Body)
	}
	again := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_forms/" + b.ID + "/deactivate", Auth: &c})
	if again.Status != 200 || !strings.Contains(string(again.Body), `"status":"inactive"`) {
		t.Fatalf("deactivating twice: %d %s", again.Status, again.Body)
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_forms/pform_01m8000000000000000000000a/deactivate", Auth: &c}), 404, "payment_form_not_found")

	list := func(q string) (ids []string, more bool) {
		t.Helper()
		res := e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_forms" + q, Auth: &c})
		var l wire.List[wire.PaymentForm]
		res.Decode(t, &l)
		if res.Status != 200 {
			t.Fatalf("list %s: %d %s", q, res.Status, res.Body)
		}
		for _, f := range l.Data {
			ids = append(ids, f.ID)
		}
		return ids, l.HasMore
	}
	if ids, more := list("?limit=2"); !cmp.Equal(ids, []string{cc.ID, b.ID}) || !more {
		t.Fatalf("first page = %v more=%v", ids, more)
	}
	if ids, more := list("?limit=2&starting_after=" + b.ID); !cmp.Equal(ids, []string{f.ID}) || more {
		t.Fatalf("second page = %v more=%v", ids, more)
	}
	if ids, _ := list("?status=inactive"); !cmp.Equal(ids, []string{b.ID}) {
		t.Fatalf("inactive = %v", ids)
	}
	if ids, _ := list("?status=active"); !cmp.Equal(ids, []string{cc.ID, f.ID}) {
		t.Fatalf("active = %v", ids)
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_forms?limit=101", Auth: &c}), 400, "limit_invalid")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_forms?status=gone", Auth: &c}), 400, "status_invalid")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_forms?starting_after=plink_1", Auth: &c}), 400, "starting_after_invalid")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_forms"}), 401, "api_key_missing")
}
