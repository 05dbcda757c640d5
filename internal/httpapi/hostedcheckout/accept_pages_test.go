package hostedcheckout_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// TestPagesOfferOnlyWhatIsAccepted: each checkout page follows the
// merchant's settings as they are now (pages read them uncached): a link
// offers the wallet only while it is on and the card form only while
// cards are; a link, signed link or embedded form in a currency the
// merchant dropped, or a card-only page once cards are off, is a 410
// page saying why instead of a form.
func TestPagesOfferOnlyWhatIsAccepted(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("pages-accept@shop.test")
	l := e.CreateLink(c, map[string]any{"currency": "eur"})
	f := e.CreateForm(c, map[string]any{"currency": "eur", "allowed_origins": []string{"https://shop.example"}})
	pages := map[string]string{
		"link":   apitest.CheckoutPath(t, l),
		"signed": signedPath(e, c, map[string]string{"currency": "EUR"}),
		"form":   embedURL(f.ID, "https://shop.example"),
	}
	get := func(name string, status int, has, lacks []string) {
		t.Helper()
		res := e.Do(apitest.Req{Method: "GET", Path: pages[name]})
		body := string(res.Body)
		if res.Status != status {
			t.Fatalf("%s page = %d, want %d\n%s", name, res.Status, status, body)
		}
		for _, s := range has {
			if !strings.Contains(body, s) {
				t.Errorf("%s page lacks %q", name, s)
			}
		}
		for _, s := range lacks {
			if strings.Contains(body, s) {
				t.Errorf("%s page has %q", name, s)
			}
		}
	}
	for name := range pages {
		get(name, http.StatusOK, []string{`id="pay-form"`, `data-brands="visa mastercard`}, nil)
	}
	get("link", http.StatusOK, []string{`id="wallet-pay"`}, nil)

	patchMerchant(t, e, c, map[string]any{"payment_methods": []string{"card"}, "card_brands": []string{"visa"}})
	for name := range pages {
		get(name, http.StatusOK, []string{`data-brands="visa"`}, []string{`id="wallet-pay"`})
	}

	patchMerchant(t, e, c, map[string]any{"payment_methods": []string{"wallet"}})
	get("link", http.StatusOK, []string{`id="wallet-pay"`}, []string{`id="pay-form"`})
	get("signed", http.StatusGone, []string{"Card payments are not accepted here"}, []string{`id="pay-form"`})
	get("form", http.StatusGone, []string{"Card payments are not accepted here", "payment_method_not_accepted"}, []string{`id="pay-form"`})

	patchMerchant(t, e, c, map[string]any{"payment_methods": []string{"card", "wallet"}, "currencies": []string{"USD"}})
	for name := range pages {
		get(name, http.StatusGone, []string{"This currency is no longer accepted"}, []string{`id="pay-form"`, `id="wallet-pay"`})
	}
}
