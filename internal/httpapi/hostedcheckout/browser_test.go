package hostedcheckout_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/returnurl"
	"github.com/paylink/paylink/internal/wire"
)

// newBrowserEnv is apitest.New served on a real listener whose address is the
// server's base URL, so the pages' same-origin POSTs and signed URLs work
// in a browser. It also starts the merchant's site, for success_url.
func newBrowserEnv(t *testing.T) (e *apitest.Env, shop string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("http://" + ln.Addr().String())
	e = apitest.New(t, func(d *httpapi.Deps) {
		signer, err := links.NewSigner([]links.SigningKey{apitest.TestLinkKey})
		if err != nil {
			t.Fatal(err)
		}
		d.BaseURL = base
		d.Links = links.NewService(signer, base, d.Now)
		d.Checkout = checkout.NewService(processor.NewSimulator(apitest.TestSimulatorKey, processor.NewRedisKeys(d.Redis), d.Now), d.Links, d.Now)
	})
	ts := httptest.NewUnstartedServer(e.Server)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	e.Base = ts.URL
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>Shop</title><h1 id="shop">Thanks from the shop</h1>`)
	}))
	t.Cleanup(site.Close)
	return e, site.URL
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func fillCard(t *testing.T, ctx context.Context, number, expiry, cvc string) {
	t.Helper()
	must(t, chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("pay-form")),
		chromedp.SendKeys(chromedp.ID("email"), "ada@example.test"),
		chromedp.SendKeys(chromedp.ID("name"), "Ada Shopper"),
		chromedp.SendKeys(chromedp.ID("number"), number),
		chromedp.SendKeys(chromedp.ID("expiry"), expiry),
		chromedp.SendKeys(chromedp.ID("cvc"), cvc),
	))
}

// landedOn is the browser's current URL.
func landedOn(t *testing.T, ctx context.Context) string {
	t.Helper()
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	must(t, err)
	return href
}

func TestBrowserPaysALink(t *testing.T) {
	e, shop := newBrowserEnv(t)
	_, c := e.SignUp("browser@shop.test")
	l := e.CreateLink(c, map[string]any{"amount": 2500, "description": "Blue mug", "success_url": shop + "/ok"})
	ctx := browsertest.New(t)
	must(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(l.URL)))
	browsertest.Wait(t, ctx, `document.getElementById("amount") && document.getElementById("amount").textContent === "$25.00"`)
	browsertest.Screenshot(t, ctx, "1-checkout")

	fillCard(t, ctx, "4242424242424242", "1234", "123")
	// The page formats what was typed as it is typed.
	browsertest.WaitValue(t, ctx, "#number", "4242 4242 4242 4242")
	browsertest.WaitText(t, ctx, "#number-brand", "Visa")
	browsertest.WaitValue(t, ctx, "#expiry", "12 / 34")
	browsertest.Screenshot(t, ctx, "2-filled")

	// Submit from the keyboard: Enter in the last field.
	must(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("cvc"), kb.Enter)))
	browsertest.Wait(t, ctx, `document.getElementById("receipt") && document.getElementById("receipt").dataset.status === "succeeded"`)
	browsertest.WaitText(t, ctx, "#receipt-card", "Visa •••• 4242")
	browsertest.Screenshot(t, ctx, "3-receipt")

	browsertest.Wait(t, ctx, fmt.Sprintf(`location.href.startsWith(%q) && !!document.getElementById("shop")`, shop+"/ok?"))
	browsertest.Screenshot(t, ctx, "4-redirected")
	var paid wire.List[wire.Payment]
	e.Do(apitest.Req{Method: "GET", Path: "/v1/payments?status=succeeded&payment_link=" + l.ID, Auth: &c}).Decode(t, &paid)
	if len(paid.Data) != 1 {
		t.Fatalf("%d succeeded payments after the browser paid", len(paid.Data))
	}
	// The shop's page was reached with a signed return naming the payment.
	e.WantSignedReturn(landedOn(t, ctx), shop+"/ok", returnurl.Return{Payment: paid.Data[0].ID, Status: "succeeded", Source: l.ID})
	e.WantBalance(c, "USD", 2500)
}

func TestBrowserShowsDeclineAndInlineErrors(t *testing.T) {
	e, _ := newBrowserEnv(t)
	_, c := e.SignUp("browser-decline@shop.test")
	l := e.CreateLink(c, nil)
	ctx := browsertest.New(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(l.URL)))

	// Inline validation before anything is sent: a Luhn failure.
	fillCard(t, ctx, "4242424242424241", "1234", "123")
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("pay-button"))))
	browsertest.Wait(t, ctx, `document.getElementById("number-error").textContent.includes("invalid") &&
		document.getElementById("number").getAttribute("aria-invalid") === "true" &&
		document.activeElement.id === "number"`)
	browsertest.Screenshot(t, ctx, "1-inline-error")
	if n := e.Count(`SELECT count(*) FROM payments`); n != 0 {
		t.Fatalf("an invalid number reached the server: %d payments", n)
	}

	// A declined card shows the decline's own message.
	must(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("number"), ""),
		chromedp.SendKeys(chromedp.ID("number"), "4000000000009995"), chromedp.Click(chromedp.ID("pay-button"))))
	browsertest.Wait(t, ctx, `document.getElementById("form-error").textContent.includes("insufficient funds") &&
		!document.getElementById("pay-button").disabled`)
	browsertest.Screenshot(t, ctx, "2-declined")

	// An incorrect CVC points at the CVC field.
	must(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("number"), ""),
		chromedp.SendKeys(chromedp.ID("number"), "4000000000000127"), chromedp.Click(chromedp.ID("pay-button"))))
	browsertest.Wait(t, ctx, `document.getElementById("cvc-error").textContent.includes("security code is incorrect")`)
	browsertest.Screenshot(t, ctx, "3-incorrect-cvc")
	if n := e.Count(`SELECT count(*) FROM payments WHERE status = 'failed'`); n != 2 {
		t.Fatalf("%d failed payments, want 2", n)
	}
}

func TestBrowserChallenge(t *testing.T) {
	e, shop := newBrowserEnv(t)
	_, c := e.SignUp("browser-challenge@shop.test")
	l := e.CreateLink(c, map[string]any{"success_url": shop + "/done"})
	ctx := browsertest.New(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(l.URL)))
	fillCard(t, ctx, "4000000000003220", "1234", "123")
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("pay-button"))))
	browsertest.Wait(t, ctx, `location.pathname.endsWith("/challenge") && !!document.getElementById("approve")`)
	browsertest.WaitText(t, ctx, "#challenge-amount", "$25.00")
	browsertest.Screenshot(t, ctx, "1-challenge")
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("approve"))))
	browsertest.Wait(t, ctx, `document.getElementById("receipt") && document.getElementById("receipt").dataset.status === "succeeded"`)
	browsertest.Screenshot(t, ctx, "2-approved")
	browsertest.Wait(t, ctx, fmt.Sprintf(`location.href.startsWith(%q)`, shop+"/done?"))
	var p wire.List[wire.Payment]
	e.Do(apitest.Req{Method: "GET", Path: "/v1/payments?payment_link=" + l.ID, Auth: &c}).Decode(t, &p)
	if len(p.Data) != 1 || p.Data[0].Status != "succeeded" {
		t.Fatalf("payments after the challenge = %+v", p.Data)
	}
	e.WantSignedReturn(landedOn(t, ctx), shop+"/done", returnurl.Return{Payment: p.Data[0].ID, Status: "succeeded", Source: l.ID})
}

func TestBrowserDeactivatedLinkShows410(t *testing.T) {
	e, _ := newBrowserEnv(t)
	_, c := e.SignUp("browser-410@shop.test")
	l := e.CreateLink(c, nil)
	e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links/" + l.ID + "/deactivate", Auth: &c})
	ctx := browsertest.New(t)
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(l.URL))
	must(t, err)
	if resp.Status != http.StatusGone {
		t.Fatalf("deactivated link: %d", resp.Status)
	}
	browsertest.WaitText(t, ctx, "#notice-title", "This link is no longer active")
	browsertest.Screenshot(t, ctx, "1-gone")
	// An edited URL is the 403 page.
	resp, err = chromedp.Run(ctx, chromedp.NavigateResponse(strings.Replace(l.URL, "exp=", "exp=1", 1)))
	must(t, err)
	if resp.Status != http.StatusForbidden {
		t.Fatalf("tampered link: %d", resp.Status)
	}
	browsertest.WaitText(t, ctx, "#notice-title", "This payment link is not valid")
	browsertest.Screenshot(t, ctx, "2-forbidden")
}

// TestBrowserDeclineMessageTakesFocus: a decline names no field, so its
// message above the form takes the focus (and so comes into view) on a
// short phone screen where the shopper pressed Enter below it.
func TestBrowserDeclineMessageTakesFocus(t *testing.T) {
	e, _ := newBrowserEnv(t)
	_, c := e.SignUp("browser-decline-focus@shop.test")
	l := e.CreateLink(c, nil)
	ctx := browsertest.New(t)
	must(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 600), chromedp.Navigate(l.URL)))
	fillCard(t, ctx, "4000000000000002", "1234", "123")
	browsertest.WaitValue(t, ctx, "#cvc", "123")
	must(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("cvc"), kb.Enter)))
	browsertest.Wait(t, ctx, `document.getElementById("form-error").textContent.includes("declined") &&
		document.activeElement.id === "form-error" &&
		document.getElementById("form-error").getBoundingClientRect().top >= 0 &&
		document.getElementById("form-error").getBoundingClientRect().bottom <= innerHeight`)
	browsertest.Screenshot(t, ctx, "1-declined")
	// What was typed stays, to correct and send again.
	browsertest.WaitValue(t, ctx, "#number", "4000 0000 0000 0002")
	browsertest.WaitValue(t, ctx, "#email", "ada@example.test")
}
