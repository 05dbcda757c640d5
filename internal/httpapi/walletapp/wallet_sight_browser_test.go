package walletapp_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
)

// inSight is true when the page's message box is on screen.
const inSight = `(function (m) { var r = m.getBoundingClientRect();
	return m.textContent !== "" && r.top >= 0 && r.bottom <= window.innerHeight; })(document.getElementById("message"))`

// TestWalletBrowserAnswersInSightOnAPhone: on a phone the forms are far
// below the message box at the top of the page; a top-up's answer, a
// refusal or a success, is brought on screen instead of appearing out of
// sight while the form just empties.
func TestWalletBrowserAnswersInSightOnAPhone(t *testing.T) {
	e := newWalletBrowserEnv(t)
	e.WalletUser("sight.browser@example.test")
	ctx := browsertest.New(t)
	do(t, ctx, chromedp.EmulateViewport(390, 844))
	logInWithPassword(t, ctx, e, "sight.browser@example.test")

	do(t, ctx, chromedp.ScrollIntoView(chromedp.ID("topup-submit")),
		chromedp.SendKeys(chromedp.ID("topup_amount"), "twelve"),
		chromedp.SendKeys(chromedp.ID("card_number"), "4242 4242 4242 4242"),
		chromedp.SendKeys(chromedp.ID("card_exp"), "12/34"),
		chromedp.SendKeys(chromedp.ID("card_cvc"), "123"),
		chromedp.Click(chromedp.ID("topup-submit")))
	browsertest.WaitText(t, ctx, "#message", "Enter an amount like 20.00.")
	browsertest.Wait(t, ctx, inSight)

	do(t, ctx, chromedp.ScrollIntoView(chromedp.ID("topup-submit")))
	browsertest.Fill(t, ctx, "#topup_amount", "12.50")
	do(t, ctx, chromedp.Click(chromedp.ID("topup-submit")))
	browsertest.WaitText(t, ctx, "#message", "Added $12.50 to your wallet.")
	browsertest.Wait(t, ctx, inSight)
	browsertest.Screenshot(t, ctx, "topup-answer-390")
}
