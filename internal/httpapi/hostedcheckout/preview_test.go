package hostedcheckout_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// The dashboard's preview of a form may be framed by Paylink's own origin
// only, whatever the form's allowed origins, and cannot pay: it loads no
// payment script and its pay button is off. The embed page itself still
// names only the form's allowed origins, and a POST to the preview is not
// a route.
func TestEmbedPreview(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("preview@shop.test")
	f := e.CreateForm(c, map[string]any{"title": "Beans", "amount": nil, "amount_min": 500, "amount_max": 5000,
		"collect": []string{"billing_address"}})

	res := e.Do(apitest.Req{Method: "GET", Path: "/embed/forms/" + f.ID + "/preview"})
	if res.Status != http.StatusOK {
		t.Fatalf("preview: %d %s", res.Status, res.Body)
	}
	if got := frameAncestors(t, res); !slices.Equal(got, []string{"'self'"}) {
		t.Fatalf("preview frame-ancestors %v; want only 'self'", got)
	}
	body := string(res.Body)
	for _, want := range []string{`id="preview-note"`, `id="pay-button" disabled`, `id="amount-input"`, `id="billing-address"`, "Beans"} {
		if !strings.Contains(body, want) {
			t.Fatalf("preview lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "pay.js") || dataAttr(res.Body, "data-parent-origin") != "" {
		t.Fatal("the preview loads the payment script or talks to a parent")
	}
	if res := e.Do(apitest.Req{Method: "GET", Path: embedURL(f.ID, apitest.ShopOrigin)}); !slices.Equal(frameAncestors(t, res), []string{apitest.ShopOrigin}) {
		t.Fatalf("embed page frame-ancestors %v", frameAncestors(t, res))
	}
	if res := e.Pay("/embed/forms/"+f.ID+"/preview", apitest.CardBody("4242424242424242"), "preview-pay"); res.Status != http.StatusMethodNotAllowed {
		t.Fatalf("POST to the preview: %d", res.Status)
	}

	if res := e.Do(apitest.Req{Method: "GET", Path: "/embed/forms/pform_01m8000000000000000000000a/preview"}); res.Status != http.StatusNotFound {
		t.Fatalf("unknown form's preview: %d", res.Status)
	}
	if res := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_forms/" + f.ID + "/deactivate", Auth: &c}); res.Status != http.StatusOK {
		t.Fatalf("deactivate: %d", res.Status)
	}
	res = e.Do(apitest.Req{Method: "GET", Path: "/embed/forms/" + f.ID + "/preview"})
	if res.Status != http.StatusGone || !slices.Equal(frameAncestors(t, res), []string{"'self'"}) {
		t.Fatalf("inactive form's preview: %d %v", res.Status, frameAncestors(t, res))
	}
}
