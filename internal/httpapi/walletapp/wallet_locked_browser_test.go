package walletapp_test

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// TestWalletBrowserLockedLogInSaysWhenToRetry: after too many wrong
// passwords the log-in page says in words when to try again, not the
// API's "the number of seconds in Retry-After".
func TestWalletBrowserLockedLogInSaysWhenToRetry(t *testing.T) {
	e := newWalletBrowserEnv(t)
	e.WalletUser("locked.browser@example.test")
	guesser := e.NewShopper()
	for range 11 { // the lockout's ten checks, then the one that locks
		guesser.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login",
			Body: map[string]string{"email": "locked.browser@example.test", "password": "not the password"}})
	}
	if res := guesser.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login",
		Body: map[string]string{"email": "locked.browser@example.test", "password": "not the password"}}); res.Status != http.StatusTooManyRequests {
		t.Fatalf("after the guesses: %d %s; want 429", res.Status, res.Body)
	}
	ctx := browsertest.New(t)
	do(t, ctx, chromedp.Navigate(e.Base+"/wallet/login"),
		chromedp.SendKeys(chromedp.ID("email"), "locked.browser@example.test"),
		chromedp.SendKeys(chromedp.ID("password"), apitest.WalletPassword),
		chromedp.Click(chromedp.ID("login-submit")))
	browsertest.WaitText(t, ctx, "#message", "Too many attempts. Try again in 15 minutes.")
}
