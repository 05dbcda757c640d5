package walletapp_test

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// TestWalletBrowserResumesATopUpWaitingForTheBank: a user who left the
// bank's page of a top-up finds it in the history, "Waiting for your
// bank", with a way back to that page, and approves it from there.
func TestWalletBrowserResumesATopUpWaitingForTheBank(t *testing.T) {
	e := newWalletBrowserEnv(t)
	s := e.WalletUser("resume.browser@example.test")
	res := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/topup",
		Body: map[string]any{"amount": 2500, "currency": "USD", "card": apitest.Card("4000000000003220")}})
	if res.Status != http.StatusOK {
		t.Fatalf("challenge top-up: %d %s", res.Status, res.Body)
	}
	ctx := browsertest.New(t)
	logInWithPassword(t, ctx, e, "resume.browser@example.test")
	browsertest.WaitText(t, ctx, "#history li .status", "Waiting for your bank")
	navigates(t, ctx, "back to the bank", "/wallet/topups/", chromedp.Click(`#history li a[href$="/challenge"]`))
	browsertest.WaitText(t, ctx, "#challenge-amount", "$25.00")
	navigates(t, ctx, "approve", "/wallet", chromedp.Click(chromedp.ID("approve")))
	browsertest.WaitText(t, ctx, "#balances", "$25.00")
}
