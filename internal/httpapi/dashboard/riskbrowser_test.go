package dashboard_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
)

// payInTab pays linkURL in a second tab of ctx with card number and
// waits for what the page shows after: want is a JavaScript condition.
func payInTab(t *testing.T, ctx context.Context, linkURL, number, want string) {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	defer cancel()
	must(t, chromedp.Do(tab, chromedp.Navigate(linkURL)))
	browsertest.Wait(t, tab, `!!document.getElementById("pay-form")`)
	must(t, chromedp.Do(tab,
		chromedp.SendKeys("#email", "ada@example.test"),
		chromedp.SendKeys("#name", "Ada Shopper"),
		chromedp.SendKeys("#number", number),
		chromedp.SendKeys("#expiry", "1234"),
		chromedp.SendKeys("#cvc", "123"),
		chromedp.Click("#pay-button")))
	browsertest.Wait(t, tab, want)
	if want != receiptSucceeded {
		browsertest.Screenshot(t, tab, "risk-blocked-checkout-1280")
	}
}

// clearField empties the field with id fieldID.
func clearField(t *testing.T, ctx context.Context, fieldID string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.getElementById("`+fieldID+`").value = "", true)`))
	must(t, err)
}

const receiptSucceeded = `document.getElementById("receipt") && document.getElementById("receipt").dataset.status === "succeeded"`

// A merchant sees a payment made with the elevated-risk test card in the
// review queue and approves it; writes a rule on the rules page, seeing
// its backtest (and a typo's error) while typing, saves it, and the rule
// then blocks a payment on the hosted checkout page; the insights and
// lists pages show the result.
func TestBrowserRiskReviewsAndRules(t *testing.T) {
	e := newBrowserEnv(t)
	_, creds := e.SignUp("risk@shop.test")
	ctx := browsertest.New(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/login")))
	browsertest.Wait(t, ctx, `!!document.getElementById("login-submit")`)
	must(t, chromedp.Do(ctx, chromedp.SendKeys("#email", "risk@shop.test"), chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#login-submit")))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard" && !!document.querySelector(".logout")`)

	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/reviews")))
	browsertest.Wait(t, ctx, `document.querySelector(".empty") && document.querySelector(".empty").textContent.includes("No payment waits for review")`)
	shots(t, ctx, "risk-01-reviews-empty")

	// Reviewed by default: the elevated-risk test card.
	l := e.CreateLink(creds, map[string]any{"amount": 2500, "description": "Mug"})
	payInTab(t, ctx, l.URL, "4000000000009235", receiptSucceeded)
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/reviews")))
	browsertest.Wait(t, ctx, `!!document.getElementById("reviews") && document.getElementById("reviews").textContent.includes("$25.00") &&
		document.getElementById("reviews").textContent.includes("Elevated risk")`)
	// Once the page's script ran (its title is no longer the server's UTC
	// time), the age column still shows an age, with the local time as
	// its title: the script turns other times into local dates.
	browsertest.Wait(t, ctx, `(() => { const a = document.querySelector("#reviews time[data-age]");
		return !!a && a.title !== "" && !a.title.endsWith("UTC") && /^(just now|\d+ min)$/.test(a.textContent); })()`)
	shots(t, ctx, "risk-02-reviews-open")
	must(t, chromedp.Do(ctx, chromedp.Click(`#reviews button[type="submit"]`)))
	browsertest.Wait(t, ctx, `!!document.getElementById("approved") && !document.getElementById("reviews")`)
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/reviews?status=closed")))
	browsertest.Wait(t, ctx, `!!document.getElementById("reviews") && document.getElementById("reviews").textContent.includes("approved")`)
	shots(t, ctx, "risk-03-reviews-closed")
	must(t, chromedp.Do(ctx, chromedp.Click(`#reviews a`)))
	browsertest.Wait(t, ctx, `!!document.getElementById("risk") && document.getElementById("risk-reasons").textContent.includes("A risk test card.") &&
		document.getElementById("risk-review").textContent.includes("approved")`)
	shots(t, ctx, "risk-04-payment-risk")

	// A rule, backtested while typing.
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/risk/rules")))
	browsertest.Wait(t, ctx, `!!document.getElementById("save-rule")`)
	shots(t, ctx, "risk-05-rules-empty")
	must(t, chromedp.Do(ctx, chromedp.SendKeys("#expression", "email_domian == 'example.test'")))
	browsertest.Wait(t, ctx, `!!document.getElementById("expression-live-error") &&
		document.getElementById("expression-live-error").textContent.includes("undeclared reference")`)
	shots(t, ctx, "risk-06-rule-typo")
	clearField(t, ctx, "expression")
	must(t, chromedp.Do(ctx, chromedp.SendKeys("#expression", "email_domain == 'example.test'")))
	browsertest.Wait(t, ctx, `!document.getElementById("expression-live-error") && !!document.getElementById("backtest-matched") &&
		document.getElementById("backtest-matched").textContent === "1" &&
		document.getElementById("backtest").textContent.includes("of 1 payments") && !!document.querySelector("#backtest a")`)
	shots(t, ctx, "risk-07-rule-backtest")
	must(t, chromedp.Do(ctx, chromedp.SendKeys("#description", "No example.test orders"), chromedp.Click("#save-rule")))
	browsertest.Wait(t, ctx, `!!document.getElementById("created") && document.getElementById("rules").textContent.includes("example.test")`)
	shots(t, ctx, "risk-08-rule-saved")

	// The rule blocks the next payment on the hosted checkout page.
	l2 := e.CreateLink(creds, map[string]any{"amount": 1800, "description": "Plate"})
	payInTab(t, ctx, l2.URL, "4242424242424242", `[...document.querySelectorAll('[role="alert"]')].some(e => e.textContent.trim() !== "")`)
	if n := e.Count(`SELECT count(*) FROM payments WHERE status = 'failed' AND failure_code = 'payment_blocked'`); n != 1 {
		t.Fatalf("%d blocked payments", n)
	}
	if n := e.Count(`SELECT count(*) FROM risk_rules WHERE matches = 1`); n != 1 {
		t.Fatalf("the rule counted %d matches", n)
	}

	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/risk")))
	browsertest.WaitText(t, ctx, `[data-testid="attempts"]`, "2")
	browsertest.Wait(t, ctx, `document.querySelector('[data-testid="block"]').textContent.startsWith("1") &&
		document.querySelectorAll("svg.chart rect").length === 2 && document.getElementById("top-reasons").textContent.includes("Your rule")`)
	shots(t, ctx, "risk-09-insights")

	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/risk/lists")))
	browsertest.Wait(t, ctx, `!!document.getElementById("add-block")`)
	must(t, chromedp.Do(ctx, chromedp.SendKeys("#block-value", "not an e-mail"), chromedp.Click("#add-block")))
	browsertest.Wait(t, ctx, `document.getElementById("block-value-error").textContent.trim() !== ""`)
	shots(t, ctx, "risk-10-lists-error")
	clearField(t, ctx, "block-value")
	must(t, chromedp.Do(ctx, chromedp.SendKeys("#block-value", "crook@fraud.test"), chromedp.Click("#add-block")))
	browsertest.Wait(t, ctx, `!!document.getElementById("block-items") && document.getElementById("block-items").textContent.includes("crook@fraud.test")`)
	shots(t, ctx, "risk-11-lists")
}
