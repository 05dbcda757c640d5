package hostedcheckout_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/links"
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
		"signed": e.SignedPath(c, map[string]string{"currency": "EUR"}),
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

// TestSettingsBoundAcrossReplicas: the bound of the only per-process copy
// of a merchant's settings, links.Lookup's cache on the checkout's POST,
// is one minute. Replica B (its own cache) pays a link with Visa; the
// merchant turns Visa off through replica A. At once, B's page shows the
// change (pages read uncached), and B's payment with Visa is refused by
// the payment's insert (authorized from B's cached view, then voided:
// nothing charged, nothing recorded). A minute later B's cache has
// expired and the refusal comes before the processor is asked.
func TestSettingsBoundAcrossReplicas(t *testing.T) {
	t.Parallel()
	e, proc := countingEnv(t)
	b := e.Replica(func(d *httpapi.Deps) {
		signer, err := links.NewSigner([]links.SigningKey{apitest.TestLinkKey})
		if err != nil {
			t.Fatal(err)
		}
		d.Links = links.NewService(signer, d.BaseURL, d.Now)
		d.Checkout = checkout.NewService(proc, d.Links, d.Now)
	})
	_, c := e.SignUp("replicas@shop.test")
	l := e.CreateLink(c, map[string]any{"single_use": false})
	path := apitest.CheckoutPath(t, l)
	if a := apitest.PayAnswerOf(t, b.Pay(path, apitest.CardBody("4242424242424242"), "")); a.Payment.Status != "succeeded" {
		t.Fatalf("first payment on B: %+v", a)
	}
	setBrands(t, e, c, "mastercard")
	if page := b.Do(apitest.Req{Method: "GET", Path: path}); !strings.Contains(string(page.Body), `data-brands="mastercard"`) {
		t.Fatalf("B's page right after the change: %d, brands not just mastercard", page.Status)
	}
	apitest.WantError(t, b.Pay(path, apitest.CardBody("4242424242424242"), ""), http.StatusPaymentRequired, "card_brand_not_accepted")
	if a, v := proc.authorized.Load(), proc.voided.Load(); a != 2 || v != 1 {
		t.Fatalf("within the minute: %d authorizations, %d voids; want 2 and the refused one voided", a, v)
	}
	// The refusal made B forget the link; turn Visa back on and off again
	// to have B cache a stale view once more, then let the minute pass.
	setBrands(t, e, c, "visa", "mastercard")
	if a := apitest.PayAnswerOf(t, b.Pay(path, apitest.CardBody("4242424242424242"), "")); a.Payment.Status != "succeeded" {
		t.Fatalf("Visa on again, payment on B: %+v", a)
	}
	setBrands(t, e, c, "mastercard")
	e.Clock.Advance(time.Minute)
	before := proc.authorized.Load()
	apitest.WantError(t, b.Pay(path, apitest.CardBody("4242424242424242"), ""), http.StatusPaymentRequired, "card_brand_not_accepted")
	if a := proc.authorized.Load(); a != before {
		t.Fatalf("a minute after the change B asked the processor %d more times; want 0", a-before)
	}
	if n := e.Count(`SELECT count(*) FROM payments`); n != 2 {
		t.Fatalf("%d payments, want the 2 Visa payments made while Visa was on", n)
	}
}
