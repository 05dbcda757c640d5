package walletapp_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// shots saves the current page at phone and desktop width.
func shots(t *testing.T, ctx context.Context, step string) {
	t.Helper()
	for _, w := range []int64{375, 1280} {
		do(t, ctx, chromedp.EmulateViewport(w, 900))
		browsertest.Wait(t, ctx, fmt.Sprintf("window.innerWidth === %d", w))
		// Nothing may stick out sideways at either width.
		browsertest.Wait(t, ctx, "document.documentElement.scrollWidth <= window.innerWidth")
		browsertest.Screenshot(t, ctx, fmt.Sprintf("%s-%d", step, w))
	}
}

// filter picks value in the select id with the keyboard, as a user
// without a mouse would: focus it and type the option's first letters.
func filter(t *testing.T, ctx context.Context, id, label, value string) {
	t.Helper()
	do(t, ctx, chromedp.Focus(chromedp.ID(id)), chromedp.SendKeys(chromedp.ID(id), label))
	browsertest.WaitValue(t, ctx, "#"+id, value)
}

// TestWalletBrowserTopUpChallengeWithdrawAndFilter: a user tops up with
// the challenge card and approves on the bank's page (with the keyboard),
// withdraws to a card and sees the withdrawal go from processing to
// succeeded without reloading, sees a refused one fail with the money
// back, and filters the history by type and status.
func TestWalletBrowserTopUpChallengeWithdrawAndFilter(t *testing.T) {
	e := newWalletBrowserEnv(t)
	e.WalletUser("wd.browser@example.test")
	ctx := browsertest.New(t)
	do(t, ctx, chromedp.Navigate(e.Base+"/wallet/login"),
		chromedp.SendKeys(chromedp.ID("email"), "wd.browser@example.test"),
		chromedp.SendKeys(chromedp.ID("password"), apitest.WalletPassword))
	navigates(t, ctx, "log in", "/wallet", chromedp.Click(chromedp.ID("login-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("who").textContent.includes("wd.browser@example.test")`)

	// Top up with the challenge card: the bank's page opens.
	do(t, ctx, chromedp.SendKeys(chromedp.ID("topup_amount"), "25.00"),
		chromedp.SendKeys(chromedp.ID("card_number"), "4000 0000 0000 3220"),
		chromedp.SendKeys(chromedp.ID("card_exp"), "12/34"),
		chromedp.SendKeys(chromedp.ID("card_cvc"), "123"))
	navigates(t, ctx, "top up with the challenge card", "/wallet/topups/", chromedp.Click(chromedp.ID("topup-submit")))
	browsertest.WaitText(t, ctx, "#challenge-amount", "$25.00")
	shots(t, ctx, "1-topup-challenge")
	if n := e.Count("SELECT count(*) FROM ledger_transactions"); n != 0 {
		t.Fatalf("%d ledger transactions before approval", n)
	}
	// Approve with the keyboard: focus the button, press Enter.
	navigates(t, ctx, "approve", "/wallet", chromedp.Steps(chromedp.Focus(chromedp.ID("approve")), chromedp.KeyEvent(kb.Enter)))
	browsertest.Wait(t, ctx, `document.getElementById("message").textContent.includes("Added $25.00")`)
	browsertest.Wait(t, ctx, `document.getElementById("balances").textContent.includes("$25.00")`)

	// Withdraw to a good card: processing at once, then succeeded.
	do(t, ctx, chromedp.SendKeys(chromedp.ID("withdraw_amount"), "10"),
		chromedp.SendKeys(chromedp.ID("withdraw_card_number"), "4242 4242 4242 4242"),
		chromedp.SendKeys(chromedp.ID("withdraw_card_exp"), "12/34"),
		chromedp.SendKeys(chromedp.ID("withdraw_card_cvc"), "123"),
		chromedp.Click(chromedp.ID("withdraw-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("message").textContent.includes("Withdrawing $10.00")`)
	browsertest.Wait(t, ctx, `document.getElementById("balances").textContent.includes("$15.00")`)
	browsertest.Wait(t, ctx, `document.querySelector("#history li .status-processing") !== null &&
		document.querySelector("#history li").textContent.includes("Withdrawal")`)
	shots(t, ctx, "2-withdrawal-processing")
	var id string
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT id FROM wallet_payouts`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if err := e.Deps.Wallet.SettlePayout(context.Background(), e.Deps.Processor, id); err != nil {
		t.Fatal(err)
	}
	// The page looks again by itself while something is processing.
	browsertest.Wait(t, ctx, `document.querySelector("#history li[data-id='`+id+`'] .status-succeeded") !== null`)

	// A card that refuses the payout: failed, and the money is back.
	do(t, ctx, chromedp.SendKeys(chromedp.ID("withdraw_amount"), "5"),
		chromedp.SendKeys(chromedp.ID("withdraw_card_number"), "4000 0000 0000 0002"),
		chromedp.SendKeys(chromedp.ID("withdraw_card_exp"), "12/34"),
		chromedp.SendKeys(chromedp.ID("withdraw_card_cvc"), "123"),
		chromedp.Click(chromedp.ID("withdraw-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("balances").textContent.includes("$10.00")`)
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT id FROM wallet_payouts WHERE status = 'processing'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if err := e.Deps.Wallet.SettlePayout(context.Background(), e.Deps.Processor, id); err != nil {
		t.Fatal(err)
	}
	browsertest.Wait(t, ctx, `document.querySelector("#history li[data-id='`+id+`'] .status-failed") !== null &&
		document.getElementById("balances").textContent.includes("$15.00")`)

	// Filters: withdrawals only, then failed withdrawals only.
	filter(t, ctx, "history_type", "Wi", "withdrawal")
	browsertest.Wait(t, ctx, `document.querySelectorAll("#history li").length === 2 &&
		Array.from(document.querySelectorAll("#history li .what")).every(function (e) { return e.textContent === "Withdrawal"; })`)
	filter(t, ctx, "history_status", "F", "failed")
	browsertest.Wait(t, ctx, `document.querySelectorAll("#history li").length === 1 &&
		document.querySelector("#history li").getAttribute("data-id") === "`+id+`"`)
	shots(t, ctx, "3-history-filtered")
	verifyLedger(t, e)
}
