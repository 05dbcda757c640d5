package walletapp_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
)

// TestWalletBrowserNotificationsUseTheCardsWidth: a notification's date
// goes under its message, which keeps the card's width: beside it, it
// squeezed the message into a narrow column that broke e-mail addresses
// mid-word, at phone and desktop width alike.
func TestWalletBrowserNotificationsUseTheCardsWidth(t *testing.T) {
	e := newWalletBrowserEnv(t)
	s := e.WalletUser("notes.browser@example.test")
	s.TopUp(1000, "USD")
	ctx := browsertest.New(t)
	logInWithPassword(t, ctx, e, "notes.browser@example.test")
	for _, w := range []int64{390, 1280} {
		do(t, ctx, chromedp.EmulateViewport(w, 844))
		browsertest.Wait(t, ctx, `(function (li) {
			if (!li) return false;
			var what = li.querySelector(".what").getBoundingClientRect(), meta = li.querySelector(".meta").getBoundingClientRect();
			return meta.top >= what.bottom && what.width >= li.getBoundingClientRect().width * 0.9;
		})(document.querySelector("#notifications li"))`)
	}
}
