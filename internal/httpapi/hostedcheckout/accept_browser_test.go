package hostedcheckout_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	merchantsite "github.com/paylink/paylink/examples/merchant-site"
	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/wire"
)

// amexCard is a test American Express number.
const amexCard = "378282246310005"

// patchMerchant changes c's settings and fails unless they were taken.
func patchMerchant(t *testing.T, e *apitest.Env, c apitest.Creds, body map[string]any) {
	t.Helper()
	if res := e.Do(apitest.Req{Method: "PATCH", Path: "/v1/merchant", Auth: &c, Body: body}); res.Status != 200 {
		t.Fatalf("PATCH /v1/merchant %v = %d %s", body, res.Status, res.Body)
	}
}

// TestBrowserCheckoutShowsOnlyWhatIsAccepted: a brand the merchant turns
// off while the page is open is refused by the server and the page says
// so, nothing charged; reloaded, the page offers no wallet (turned off)
// and refuses an Amex card itself, with the merchant's reason, before
// sending anything (at phone and desktop widths); a Visa card still pays.
func TestBrowserCheckoutShowsOnlyWhatIsAccepted(t *testing.T) {
	e, _ := newBrowserEnv(t)
	_, c := e.SignUp("accept-browser@shop.test")
	l := e.CreateLink(c, map[string]any{"amount": 2500, "single_use": false})
	ctx := browsertest.New(t)
	must(t, chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(l.URL)))
	browsertest.Wait(t, ctx, `!!document.getElementById("wallet-login") &&
		document.getElementById("pay-form").dataset.brands.split(" ").includes("amex")`)
	browsertest.Screenshot(t, ctx, "0-everything-accepted-1280")

	patchMerchant(t, e, c, map[string]any{"payment_methods": []string{"card"}, "card_brands": []string{"visa", "mastercard", "discover"}})
	fillCard(t, ctx, amexCard, "1234", "1234")
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("pay-button"))))
	browsertest.Wait(t, ctx, `document.getElementById("number-error").textContent.includes("does not accept this card brand") &&
		!document.getElementById("pay-button").disabled`)
	browsertest.Screenshot(t, ctx, "1-refused-by-the-server-1280")
	if n := e.Count(`SELECT count(*) FROM payments`); n != 0 {
		t.Fatalf("%d payments after a brand turned off was refused", n)
	}

	for _, width := range []int64{375, 1280} {
		must(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate(l.URL)))
		browsertest.Wait(t, ctx, `!!document.getElementById("pay-form") && !document.getElementById("wallet-pay") &&
			document.getElementById("pay-form").dataset.brands === "visa mastercard discover"`)
		fillCard(t, ctx, amexCard, "1234", "1234")
		must(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("pay-button"))))
		browsertest.Wait(t, ctx, `document.getElementById("number-error").textContent ===
			"This merchant does not accept American Express cards. Try another card."`)
		browsertest.Screenshot(t, ctx, fmt.Sprintf("2-amex-refused-on-the-page-%d", width))
	}
	if n := e.Count(`SELECT count(*) FROM payments`); n != 0 {
		t.Fatalf("an Amex card reached the server: %d payments", n)
	}

	browsertest.Fill(t, ctx, "#number", "4242424242424242")
	browsertest.Fill(t, ctx, "#cvc", "123")
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("pay-button"))))
	browsertest.Wait(t, ctx, `document.getElementById("receipt") && document.getElementById("receipt").dataset.status === "succeeded"`)
	browsertest.Screenshot(t, ctx, "3-visa-paid-1280")
	e.WantBalance(c, "USD", 2500)
}

// TestBrowserEmbeddedFormRefusesABrandTurnedOff: the embedded form of a
// merchant that turned Amex off refuses an Amex card in the frame, with
// the merchant's reason, and sends nothing.
func TestBrowserEmbeddedFormRefusesABrandTurnedOff(t *testing.T) {
	e := newEmbedEnv(t)
	_, c := e.SignUp("embed-accept@shop.test")
	patchMerchant(t, e, c, map[string]any{"card_brands": []string{"visa", "mastercard"}})
	var form wire.PaymentForm
	shop := site(t, func(origin string) http.Handler {
		form = e.CreateForm(c, map[string]any{"title": "A bag of beans", "amount": 1500, "allowed_origins": []string{origin}})
		h, err := merchantsite.Handler(e.Base, form.ID)
		must(t, err)
		return h
	})
	ctx := browsertest.New(t)
	for _, width := range []int64{375, 1280} {
		must(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, 1000), chromedp.Navigate(shop+"/")))
		browsertest.Wait(t, ctx, `document.body.dataset.paylink === "ready"`)
		frame := frameTarget(t, ctx, e.Base+"/embed/forms/"+form.ID)
		browsertest.Wait(t, frame, `!!document.getElementById("pay-form") &&
			document.getElementById("pay-form").dataset.brands === "visa mastercard"`)
		fillCardInFrame(t, frame, amexCard)
		browsertest.Fill(t, frame, "#cvc", "1234") // Amex codes have 4 digits
		must(t, chromedp.Do(frame, chromedp.Click(chromedp.ID("pay-button"))))
		browsertest.Wait(t, frame, `document.getElementById("number-error").textContent ===
			"This merchant does not accept American Express cards. Try another card."`)
		browsertest.Screenshot(t, ctx, fmt.Sprintf("amex-refused-%d", width))
	}
	if n := e.Count(`SELECT count(*) FROM payments`); n != 0 {
		t.Fatalf("an Amex card reached the server: %d payments", n)
	}
}
