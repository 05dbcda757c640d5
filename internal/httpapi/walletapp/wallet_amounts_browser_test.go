package walletapp_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
)

// TestWalletBrowserReadsAmountsAsPeopleWriteThem: "1,000.00", as the
// page itself writes a thousand, adds a thousand; an amount over the
// most one movement may carry is refused in words with that most, not
// with the API's minor units.
func TestWalletBrowserReadsAmountsAsPeopleWriteThem(t *testing.T) {
	e := newWalletBrowserEnv(t)
	e.WalletUser("amounts.browser@example.test")
	ctx := browsertest.New(t)
	logInWithPassword(t, ctx, e, "amounts.browser@example.test")
	do(t, ctx, chromedp.SendKeys(chromedp.ID("topup_amount"), "1,000.00"),
		chromedp.SendKeys(chromedp.ID("card_number"), "4242 4242 4242 4242"),
		chromedp.SendKeys(chromedp.ID("card_exp"), "12/34"),
		chromedp.SendKeys(chromedp.ID("card_cvc"), "123"),
		chromedp.Click(chromedp.ID("topup-submit")))
	browsertest.WaitText(t, ctx, "#message", "Added $1,000.00 to your wallet.")
	browsertest.WaitText(t, ctx, "#balances", "$1,000.00")

	do(t, ctx, chromedp.SendKeys(chromedp.ID("topup_amount"), "1000000000"),
		chromedp.SendKeys(chromedp.ID("card_number"), "4242 4242 4242 4242"),
		chromedp.SendKeys(chromedp.ID("card_exp"), "12/34"),
		chromedp.SendKeys(chromedp.ID("card_cvc"), "123"),
		chromedp.Click(chromedp.ID("topup-submit")))
	browsertest.WaitText(t, ctx, "#message", "The most one top-up, transfer or withdrawal can carry is $999,999.99.")
	browsertest.WaitText(t, ctx, "#balances", "$1,000.00")
}
