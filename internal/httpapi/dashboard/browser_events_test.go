package dashboard_test

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// In Chromium, a merchant goes from Developers to the events, filters
// them by type, opens a payment's event (its JSON and its delivery) and
// redelivers it.
func TestBrowserEvents(t *testing.T) {
	e := newBrowserEnv(t, allowPrivate)
	_, creds := e.SignUp("events-ui@shop.test")
	if res := e.Do(apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints", Auth: &creds,
		Body: map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"payment.succeeded"}}}); res.Status != http.StatusCreated {
		t.Fatalf("create endpoint: %d %s", res.Status, res.Body)
	}
	pay := e.Paid(creds, 4200)
	ctx := browsertest.New(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/login")))
	browsertest.Wait(t, ctx, `!!document.getElementById("login-submit")`)
	must(t, chromedp.Do(ctx, chromedp.SendKeys("#email", "events-ui@shop.test"), chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#login-submit")))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard" && !!document.querySelector(".logout")`)

	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/developers")))
	browsertest.Wait(t, ctx, `!!document.getElementById("events-link")`)
	must(t, chromedp.Do(ctx, chromedp.Click("#events-link")))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard/developers/events" && !!document.getElementById("events") &&
		document.getElementById("events").textContent.includes("payment.succeeded")`)
	shots(t, ctx, "20-events")

	must(t, chromedp.Do(ctx, chromedp.SetValue("#type", "payment.failed"), chromedp.Click("#filter-submit")))
	browsertest.Wait(t, ctx, `location.search === "?type=payment.failed" && document.querySelector(".empty") &&
		document.querySelector(".empty").textContent.includes("No payment.failed events yet")`)
	shots(t, ctx, "21-events-empty")

	must(t, chromedp.Do(ctx, chromedp.SetValue("#type", "payment.succeeded"), chromedp.Click("#filter-submit")))
	browsertest.Wait(t, ctx, `location.search === "?type=payment.succeeded" && !!document.querySelector("#events a")`)
	must(t, chromedp.Do(ctx, chromedp.Click("#events a")))
	browsertest.Wait(t, ctx, `!!document.getElementById("event-json") && document.getElementById("event-json").textContent.includes("`+pay.ID+`") &&
		document.getElementById("deliveries").textContent.includes("we_")`)
	shots(t, ctx, "22-event")

	must(t, chromedp.Do(ctx, chromedp.Click("#redeliver")))
	browsertest.Wait(t, ctx, `!!document.getElementById("redelivered") && document.getElementById("redelivered").textContent.includes("1 delivery") &&
		document.querySelectorAll("#deliveries > li").length === 2`)
	shots(t, ctx, "23-event-redelivered")
}
