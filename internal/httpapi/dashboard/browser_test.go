package dashboard_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/risk"
)

// newBrowserEnv is apitest.New served on a real listener whose address is
// the base URL, so the pages' forms and the links' URLs work in Chromium,
// with payments screened as apitest.New screens them.
func newBrowserEnv(t *testing.T, edit ...func(*httpapi.Deps)) *apitest.Env {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("http://" + ln.Addr().String())
	e := apitest.New(t, func(d *httpapi.Deps) {
		signer, err := links.NewSigner([]links.SigningKey{apitest.TestLinkKey})
		if err != nil {
			t.Fatal(err)
		}
		d.BaseURL = base
		d.Links = links.NewService(signer, base, d.Now)
		sim := processor.NewSimulator(apitest.TestSimulatorKey, processor.NewRedisKeys(d.Redis), d.Now)
		d.Checkout = checkout.NewService(sim, d.Links, d.Now).WithRisk(risk.NewEngine(d.DB,
			risk.NewCounters(d.Redis, "", risk.DefaultThresholds, d.Log), risk.DefaultThresholds, d.Log, d.Now), sim.Fingerprint)
		for _, f := range edit {
			f(d)
		}
	})
	ts := httptest.NewUnstartedServer(e.Server)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	e.Base = ts.URL
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// shots saves step's screenshot at phone (375 px) and desktop (1280 px)
// width, after checking that every visible field of the page has a label.
func shots(t *testing.T, ctx context.Context, step string) {
	t.Helper()
	browsertest.Wait(t, ctx, `[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
		.every(e => e.labels && e.labels.length > 0 && e.labels[0].textContent.trim() !== "")`)
	must(t, chromedp.Do(ctx, chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile)))
	// A page wider than the phone widens the layout viewport: name what.
	browsertest.WaitEval(t, ctx, "no element wider than 375 px", `[...document.querySelectorAll("body *")]
		.filter(e => e.getBoundingClientRect().right > 376 && !e.closest(".table-wrap table")).map(e => e.tagName + "#" + e.id + "." + e.className).slice(0, 5).join(" ")`,
		func(s string) bool { return s == "" })
	browsertest.WaitEval(t, ctx, "a 375 px wide layout", `[window.innerWidth, document.documentElement.scrollWidth, document.documentElement.clientWidth, visualViewport.width].join(" ")`,
		func(s string) bool { return strings.HasPrefix(s, "375 ") })
	// Nothing is wider than the phone: no sideways scrolling.
	browsertest.Wait(t, ctx, `document.documentElement.scrollWidth <= document.documentElement.clientWidth`)
	browsertest.Screenshot(t, ctx, step+"-375")
	must(t, chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)))
	browsertest.Wait(t, ctx, `window.innerWidth === 1280`)
	browsertest.Screenshot(t, ctx, step+"-1280")
}

// A merchant signs up, logs in, makes a link, pays it in a second tab
// with 4242, sees the payment on the dashboard and refunds part of it.
func TestBrowserDashboard(t *testing.T) {
	e := newBrowserEnv(t)
	ctx := browsertest.New(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/")))
	browsertest.WaitText(t, ctx, "h1", "Take payments with a link.")
	shots(t, ctx, "01-landing")
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/docs")))
	browsertest.Wait(t, ctx, `document.body.textContent.includes("/v1/payment_links")`)
	browsertest.Screenshot(t, ctx, "02-docs-1280")

	// Sign up.
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard")))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard/login"`)
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/signup")))
	browsertest.Wait(t, ctx, `!!document.getElementById("signup-submit")`)
	must(t, chromedp.Do(ctx,
		chromedp.SendKeys("#name", "Blue Mugs"),
		chromedp.SendKeys("#email", "blue@shop.test"),
		chromedp.SendKeys("#password", "short"),
		chromedp.Click("#signup-submit")))
	browsertest.WaitText(t, ctx, "#password-error", "The password must be at least 10 characters.")
	shots(t, ctx, "03-signup-error")
	must(t, chromedp.Do(ctx, chromedp.SendKeys("#password", testPassword), chromedp.Click("#signup-submit")))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard" && document.querySelector("h1").textContent.includes("Blue Mugs")`)
	shots(t, ctx, "04-home-empty")

	// Log out and in again.
	must(t, chromedp.Do(ctx, chromedp.Click(".logout button")))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard/login" && !!document.getElementById("login-submit")`)
	must(t, chromedp.Do(ctx,
		chromedp.SendKeys("#email", "blue@shop.test"),
		chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#login-submit")))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard" && !!document.querySelector(".logout")`)

	// Create a link.
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/links/new")))
	browsertest.Wait(t, ctx, `!!document.getElementById("create-link")`)
	must(t, chromedp.Do(ctx,
		chromedp.SendKeys("#amount", "25.00"),
		chromedp.SendKeys("#description", "Blue mug"),
		chromedp.Click("#create-link")))
	browsertest.Wait(t, ctx, `location.pathname.startsWith("/dashboard/links/plink_") && !!document.getElementById("link-url")`)
	browsertest.Wait(t, ctx, `document.querySelector(".qr-row img").naturalWidth > 0`)
	shots(t, ctx, "05-link")
	linkURL := browsertest.WaitEval(t, ctx, "the link's URL", `document.getElementById("link-url").value`,
		func(s string) bool { return len(s) > 0 })

	// Pay it in a second tab.
	tab, cancel := chromedp.NewContext(ctx)
	defer cancel()
	must(t, chromedp.Do(tab, chromedp.Navigate(linkURL)))
	browsertest.Wait(t, tab, `!!document.getElementById("pay-form")`)
	must(t, chromedp.Do(tab,
		chromedp.SendKeys("#email", "ada@example.test"),
		chromedp.SendKeys("#name", "Ada Shopper"),
		chromedp.SendKeys("#number", "4242424242424242"),
		chromedp.SendKeys("#expiry", "1234"),
		chromedp.SendKeys("#cvc", "123"),
		chromedp.Click("#pay-button")))
	browsertest.Wait(t, tab, `document.getElementById("receipt") && document.getElementById("receipt").dataset.status === "succeeded"`)
	cancel()

	// The payment is on the dashboard.
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/payments")))
	browsertest.Wait(t, ctx, `document.querySelector("table.list") && document.querySelector("table.list tbody").textContent.includes("$25.00") &&
		document.querySelector("table.list tbody").textContent.includes("succeeded") &&
		document.querySelector("table.list tbody").textContent.includes("ada@example.test")`)
	shots(t, ctx, "06-payments")

	// Refund part of it, with the confirmation step.
	must(t, chromedp.Do(ctx, chromedp.Click("table.list tbody a")))
	browsertest.Wait(t, ctx, `location.pathname.startsWith("/dashboard/payments/pay_") && !!document.getElementById("refund-review")`)
	browsertest.Wait(t, ctx, `document.getElementById("timeline").textContent.includes("payment.succeeded")`)
	must(t, chromedp.Do(ctx, chromedp.SendKeys("#amount", "30.00"), chromedp.Click("#refund-review")))
	browsertest.Wait(t, ctx, `document.body.textContent.includes("The refund is more than the $25.00 left to refund on this payment.")`)
	shots(t, ctx, "07-over-refund")
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.getElementById("amount").value = "10.00",
		document.getElementById("reason").value = "requested_by_customer", true)`))
	must(t, err)
	must(t, chromedp.Do(ctx, chromedp.Click("#refund-review")))
	browsertest.Wait(t, ctx, `!!document.getElementById("refund-confirm")`)
	browsertest.WaitText(t, ctx, "#confirm-title", "Refund $10.00?")
	shots(t, ctx, "08-refund-confirm")
	must(t, chromedp.Do(ctx, chromedp.Click("#refund-confirm")))
	browsertest.WaitText(t, ctx, "#refunded", "$10.00")
	browsertest.Wait(t, ctx, `document.getElementById("refund-list").textContent.includes("requested_by_customer") &&
		document.getElementById("timeline").textContent.includes("payment.refunded")`)
	shots(t, ctx, "09-refunded")

	// Home: the balance is what is left.
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard")))
	browsertest.WaitText(t, ctx, `[data-testid="balance-USD"]`, "$15.00")
	browsertest.Wait(t, ctx, `document.querySelectorAll("svg.chart rect").length === 30`)
	shots(t, ctx, "10-home")
	if n := e.Count(`SELECT count(*) FROM refunds WHERE amount = 1000`); n != 1 {
		t.Fatalf("%d refunds of 1000", n)
	}
}

// A merchant creates a scoped key and sees its secret once, adds a webhook
// endpoint pointing at a local receiver, sends it a test event and sees
// how it answered, and looks at its settings and sessions.
func TestBrowserDevelopersAndSettings(t *testing.T) {
	e := newBrowserEnv(t, allowPrivate)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)
	e.SignUp("dev@shop.test")
	ctx := browsertest.New(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/login")))
	browsertest.Wait(t, ctx, `!!document.getElementById("login-submit")`)
	shots(t, ctx, "01-login")
	must(t, chromedp.Do(ctx, chromedp.SendKeys("#email", "dev@shop.test"), chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#login-submit")))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard" && !!document.querySelector(".logout")`)

	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/developers")))
	browsertest.Wait(t, ctx, `!!document.getElementById("create-key")`)
	shots(t, ctx, "02-developers")
	must(t, chromedp.Do(ctx, chromedp.SendKeys("#key-name", "Reports"), chromedp.Click("#scope-payments\\:read"),
		chromedp.Click("#create-key")))
	secret := browsertest.WaitEval(t, ctx, "the new key's secret", `(document.getElementById("secret") || {}).value || ""`,
		func(s string) bool { return strings.HasPrefix(s, "sk_") })
	shots(t, ctx, "03-key-secret")
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/developers")))
	browsertest.Wait(t, ctx, `document.getElementById("keys").textContent.includes("payments:read")`)
	browsertest.Wait(t, ctx, "!document.body.innerHTML.includes("+strconv.Quote(secret)+")")

	must(t, chromedp.Do(ctx, chromedp.SendKeys("#hook-url", rcv.URL+"/hook"), chromedp.Click("#create-endpoint")))
	browsertest.Wait(t, ctx, `!!document.getElementById("secret") && document.getElementById("secret").value.startsWith("whsec_")`)
	must(t, chromedp.Do(ctx, chromedp.Click("a.button")))
	browsertest.Wait(t, ctx, `location.pathname.startsWith("/dashboard/developers/webhooks/we_") && !!document.getElementById("send-test")`)
	must(t, chromedp.Do(ctx, chromedp.Click("#send-test")))
	browsertest.Wait(t, ctx, `!!document.getElementById("ping-result") && document.getElementById("ping-result").textContent.includes("HTTP 204")`)
	shots(t, ctx, "04-endpoint-tested")

	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/settings")))
	browsertest.Wait(t, ctx, `document.getElementById("sessions").textContent.includes("this browser")`)
	shots(t, ctx, "05-settings")
}
