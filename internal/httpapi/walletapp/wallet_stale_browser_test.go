package walletapp_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// TestWalletBrowserRefusedTransferShowsTheBalanceNow: money sent from
// another tab leaves this tab's balance stale; a transfer refused for
// insufficient funds then shows the balance as it is now, not the old
// one that seemed enough.
func TestWalletBrowserRefusedTransferShowsTheBalanceNow(t *testing.T) {
	e := newWalletBrowserEnv(t)
	s := e.WalletUser("stale.browser@example.test")
	e.WalletUser("stale.receiver@example.test")
	s.TopUp(3000, "USD")
	ctx := browsertest.New(t)
	logInWithPassword(t, ctx, e, "stale.browser@example.test")
	browsertest.WaitText(t, ctx, "#balances", "$30.00")

	// The other tab sends $20.00.
	if res := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/transfers", Body: map[string]any{
		"receiver_email": "stale.receiver@example.test", "amount": 2000, "currency": "USD"}}); res.Status != 201 {
		t.Fatalf("transfer: %d %s", res.Status, res.Body)
	}
	do(t, ctx, chromedp.SendKeys(chromedp.ID("receiver_email"), "stale.receiver@example.test"),
		chromedp.SendKeys(chromedp.ID("transfer_amount"), "20"),
		chromedp.Click(chromedp.ID("transfer-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("message").textContent.includes("too low")`)
	browsertest.WaitText(t, ctx, "#balances", "$10.00")
}
