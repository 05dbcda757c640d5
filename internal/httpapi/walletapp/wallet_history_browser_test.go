package walletapp_test

import (
	"context"
	"testing"

	"github.com/paylink/paylink/internal/browsertest"
)

// TestWalletBrowserHistoryShowsFailedMovementsMovedNothing: a withdrawal
// the card refused moved no money in the end; the history names it a
// withdrawal that failed, its amount struck through without a minus
// sign, not "Withdrawn −$5.00" beside the money that is back.
func TestWalletBrowserHistoryShowsFailedMovementsMovedNothing(t *testing.T) {
	e := newWalletBrowserEnv(t)
	s := e.WalletUser("history.browser@example.test")
	s.TopUp(2000, "USD")
	if res := withdraw(s, 500, "USD", "4000 0000 0000 0002"); res.Status != 201 {
		t.Fatalf("withdraw: %d %s", res.Status, res.Body)
	}
	var id string
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT id FROM wallet_payouts`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if err := e.Deps.Wallet.SettlePayout(context.Background(), e.Deps.Processor, id); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t)
	logInWithPassword(t, ctx, e, "history.browser@example.test")
	item := `document.querySelector("#history li[data-id='` + id + `']")`
	browsertest.Wait(t, ctx, item+` !== null && `+item+`.querySelector(".status-failed") !== null`)
	browsertest.WaitText(t, ctx, "#history li[data-id='"+id+"'] .what", "Withdrawal")
	browsertest.WaitText(t, ctx, "#history li[data-id='"+id+"'] .amt", "$5.00")
	browsertest.Wait(t, ctx, item+`.querySelector(".amt").classList.contains("void") &&
		getComputedStyle(`+item+`.querySelector(".amt")).textDecorationLine === "line-through"`)
	// The top-up that succeeded still reads as money in.
	browsertest.Wait(t, ctx, `Array.from(document.querySelectorAll("#history li")).some(function (li) {
		return li.querySelector(".what").textContent === "Top-up" && li.querySelector(".amt").textContent === "+$20.00"; })`)
	shots(t, ctx, "history-failed-withdrawal")
}
