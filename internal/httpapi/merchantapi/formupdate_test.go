package merchantapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/wire"
)

// PATCH /v1/payment_forms/{id} changes only the fields given, moves a
// form between a fixed amount and a range, refuses what creating would
// refuse, and only touches the caller's active forms.
func TestUpdatePaymentForm(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("form-update@shop.test")
	f := e.CreateForm(c, map[string]any{"title": "Beans", "collect": []string{"phone"}, "metadata": map[string]string{"sku": "B-1"}})
	patch := func(body map[string]any) apitest.Response {
		t.Helper()
		return e.Do(apitest.Req{Method: "PATCH", Path: "/v1/payment_forms/" + f.ID, Auth: &c, Body: body})
	}
	decode := func(res apitest.Response) wire.PaymentForm {
		t.Helper()
		if res.Status != http.StatusOK {
			t.Fatalf("PATCH: %d %s", res.Status, res.Body)
		}
		var got wire.PaymentForm
		res.Decode(t, &got)
		return got
	}

	got := decode(patch(map[string]any{"title": "Roasted beans", "amount_min": 500, "amount_max": 9000}))
	if got.Title != "Roasted beans" || got.Amount != nil || *got.AmountMin != 500 || *got.AmountMax != 9000 ||
		strings.Join(got.Collect, " ") != "email name phone" || got.Metadata["sku"] != "B-1" || got.Currency != "USD" {
		t.Fatalf("after the first PATCH: %+v", got)
	}
	got = decode(patch(map[string]any{"amount_max": 12000, "collect": []string{}, "currency": "eur"}))
	if *got.AmountMin != 500 || *got.AmountMax != 12000 || strings.Join(got.Collect, " ") != "email name" || got.Currency != "EUR" {
		t.Fatalf("after the second PATCH: %+v", got)
	}
	got = decode(patch(map[string]any{"amount": 700}))
	if got.Amount == nil || *got.Amount != 700 || got.AmountMin != nil || got.AmountMax != nil {
		t.Fatalf("back to a fixed amount: %+v", got)
	}

	apitest.WantError(t, patch(map[string]any{"amount_min": 100}), 400, "amount_invalid")
	apitest.WantError(t, patch(map[string]any{"amount": 100, "amount_max": 200}), 400, "amount_invalid")
	apitest.WantError(t, patch(map[string]any{"amount": 0}), 400, "amount_invalid")
	apitest.WantError(t, patch(map[string]any{"title": ""}), 400, "title_invalid")
	apitest.WantError(t, patch(map[string]any{"allowed_origins": []string{}}), 400, "allowed_origins_invalid")
	apitest.WantError(t, patch(map[string]any{"currency": "XYZ"}), 400, "currency_unsupported")
	apitest.WantError(t, patch(map[string]any{"status": "active"}), 400, "unknown_parameter")
	if n := e.Count(`SELECT count(*) FROM payment_forms WHERE id = $1 AND amount = 700 AND title = 'Roasted beans'`, f.ID); n != 1 {
		t.Fatal("a refused PATCH changed the form")
	}

	_, other := e.SignUp("form-update-other@shop.test")
	apitest.WantError(t, e.Do(apitest.Req{Method: "PATCH", Path: "/v1/payment_forms/" + f.ID, Auth: &other,
		Body: map[string]any{"title": "Mine"}}), 404, "payment_form_not_found")
	if res := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_forms/" + f.ID + "/deactivate", Auth: &c}); res.Status != http.StatusOK {
		t.Fatalf("deactivate: %d", res.Status)
	}
	apitest.WantError(t, patch(map[string]any{"title": "Again"}), 410, "form_inactive")
}
