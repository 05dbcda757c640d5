package walletapp_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// fieldInError is true when the field id alone is marked invalid,
// described by the message, and has the focus.
func fieldInError(id string) string {
	return `(function (f) { return f.getAttribute("aria-invalid") === "true" && f.getAttribute("aria-describedby") === "message" &&
		document.activeElement === f && document.querySelectorAll("#signup-form [aria-invalid]").length === 1; })(document.getElementById("` + id + `"))`
}

// TestWalletBrowserSignUpPointsAtTheFieldInError: a refused sign-up
// marks the field the API named (param) invalid and moves the focus to
// it; the next refusal moves the mark to its own field.
func TestWalletBrowserSignUpPointsAtTheFieldInError(t *testing.T) {
	e := newWalletBrowserEnv(t)
	ctx := browsertest.New(t)
	do(t, ctx, chromedp.Navigate(e.Base+"/wallet/signup"),
		chromedp.SendKeys(chromedp.ID("first_name"), "Grace"),
		chromedp.SendKeys(chromedp.ID("last_name"), "Hopper"),
		chromedp.SendKeys(chromedp.ID("email"), "grace@example"),
		chromedp.SendKeys(chromedp.ID("phone"), "555 0199"),
		chromedp.SendKeys(chromedp.ID("password"), apitest.WalletPassword),
		chromedp.Click(chromedp.ID("signup-submit")))
	browsertest.WaitText(t, ctx, "#message", "The e-mail address is not valid.")
	browsertest.Wait(t, ctx, fieldInError("email"))

	browsertest.Fill(t, ctx, "#email", "grace@example.test")
	do(t, ctx, chromedp.Click(chromedp.ID("signup-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("message").textContent.startsWith("The phone number")`)
	browsertest.Wait(t, ctx, fieldInError("phone"))
	browsertest.Screenshot(t, ctx, "phone-in-error")
}
