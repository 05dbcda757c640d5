package walletapp_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/processor"
)

// newWalletBrowserEnv serves the API on http://localhost:<port>, the origin and
// relying party a browser's WebAuthn accepts without TLS.
func newWalletBrowserEnv(t *testing.T) *apitest.Env {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	e := apitest.New(t, func(d *httpapi.Deps) {
		d.BaseURL, _ = url.Parse(origin)
		signer, err := links.NewSigner([]links.SigningKey{apitest.TestLinkKey})
		if err != nil {
			t.Fatal(err)
		}
		d.Links = links.NewService(signer, d.BaseURL, d.Now)
		d.Checkout = checkout.NewService(processor.NewSimulator(apitest.TestSimulatorKey, processor.NewRedisKeys(d.Redis), d.Now), d.Links, d.Now)
		pk, err := passkey.New(passkey.Config{RPID: "localhost", RPName: "Paylink", Origins: []string{origin},
			Timeout: 2 * time.Minute}, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		d.Passkeys = pk
	})
	ts := httptest.NewUnstartedServer(e.Server)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	e.Base = origin
	return e
}

// addAuthenticator gives the browser a virtual platform authenticator
// with resident keys and user verification (like Touch ID).
func addAuthenticator(t *testing.T, ctx context.Context) webauthn.AuthenticatorID {
	t.Helper()
	return browsertest.AddAuthenticator(t, ctx, webauthn.AuthenticatorTransportInternal)
}

// addSecurityKey gives the browser, after addAuthenticator, a second
// authenticator: a USB security key with resident keys and user
// verification.
func addSecurityKey(t *testing.T, ctx context.Context) webauthn.AuthenticatorID {
	t.Helper()
	return browsertest.AddAuthenticator(t, ctx, webauthn.AuthenticatorTransportUsb)
}

// navigates runs trigger and waits until the main frame has navigated to
// path, or under it when path ends in "/" (the page's own script
// navigates after its API calls succeed), and the new document has
// loaded: a click sent while the old document is being replaced names a
// node that no longer exists ("Could not find node with given id", seen
// 3 times in 20 runs on a loaded machine).
func navigates(t *testing.T, ctx context.Context, step, path string, trigger chromedp.Action[chromedp.Void]) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.WaitEvent(page.FrameNavigated, func(ev page.EventFrameNavigated) bool {
		u, err := url.Parse(ev.Frame.URL)
		return ev.Frame.ParentID == "" && err == nil && (u.Path == path || strings.HasSuffix(path, "/") && strings.HasPrefix(u.Path, path))
	}, trigger))
	if err != nil {
		t.Fatalf("%s: waiting to navigate to %s: %v", step, path, err)
	}
	browsertest.Wait(t, ctx, `document.readyState === "complete"`)
}

// logInWithPassword logs email in on the wallet's log-in page and waits
// for the wallet page to show them.
func logInWithPassword(t *testing.T, ctx context.Context, e *apitest.Env, email string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(e.Base+"/wallet/login"),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), apitest.WalletPassword))
	navigates(t, ctx, "log in", "/wallet", chromedp.Click(chromedp.ID("login-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("who").textContent.includes(`+strconv.Quote(email)+`)`)
}

func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

func TestWalletBrowserPasskeyRegisterLogInAndConfirmTransfer(t *testing.T) {
	e := newWalletBrowserEnv(t)
	e.WalletUser("bob.browser@example.test") // the receiver
	ctx := browsertest.New(t)
	auth := addAuthenticator(t, ctx)

	// Sign up; the page logs in and opens the account.
	do(t, ctx, chromedp.Navigate(e.Base+"/wallet/signup"),
		chromedp.SendKeys(chromedp.ID("first_name"), "Grace"),
		chromedp.SendKeys(chromedp.ID("last_name"), "Hopper"),
		chromedp.SendKeys(chromedp.ID("email"), "grace@example.test"),
		chromedp.SendKeys(chromedp.ID("phone"), "+1 202 555 0199"),
		chromedp.SendKeys(chromedp.ID("password"), apitest.WalletPassword))
	browsertest.Screenshot(t, ctx, "1-signup")
	navigates(t, ctx, "sign up", "/wallet", chromedp.Click(chromedp.ID("signup-submit")))
	browsertest.Wait(t, ctx, `location.pathname === "/wallet" && document.getElementById("who").textContent.includes("grace@example.test")`)

	// Register a passkey with the virtual authenticator.
	do(t, ctx, chromedp.Click(chromedp.ID("add-passkey")))
	browsertest.Wait(t, ctx, `document.getElementById("message").textContent.includes("Passkey added")`)
	browsertest.Screenshot(t, ctx, "2-passkey-added")
	creds, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth})
	if err != nil || len(creds.Credentials) != 1 || !creds.Credentials[0].IsResidentCredential || creds.Credentials[0].RpID != "localhost" {
		t.Fatalf("authenticator credentials = %+v, %v; want one resident credential for localhost", creds, err)
	}
	if n := e.Count("SELECT count(*) FROM passkeys p JOIN users u ON u.id = p.user_id WHERE u.email = 'grace@example.test'"); n != 1 {
		t.Fatalf("stored passkeys = %d", n)
	}

	// Add money by test card, then send some, confirming with the passkey.
	do(t, ctx, chromedp.SendKeys(chromedp.ID("topup_amount"), "50.00"),
		chromedp.SendKeys(chromedp.ID("card_number"), "4242 4242 4242 4242"),
		chromedp.SendKeys(chromedp.ID("card_exp"), "12/34"),
		chromedp.SendKeys(chromedp.ID("card_cvc"), "123"),
		chromedp.Click(chromedp.ID("topup-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("balances").textContent.includes("$50.00")`)
	do(t, ctx, chromedp.SendKeys(chromedp.ID("receiver_email"), "bob.browser@example.test"),
		chromedp.SendKeys(chromedp.ID("transfer_amount"), "12.50"),
		chromedp.SendKeys(chromedp.ID("note"), "books"),
		chromedp.Click(chromedp.ID("transfer-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("message").textContent.includes("Sent")`)
	browsertest.Wait(t, ctx, `document.getElementById("history").textContent.includes("bob.browser@example.test")`)
	browsertest.Screenshot(t, ctx, "3-sent")
	asserted, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth})
	if err != nil || asserted.Credentials[0].SignCount < 1 {
		t.Fatalf("the transfer was not confirmed with the passkey: %+v %v", asserted, err)
	}
	var bobGot int64
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT amount FROM wallet_transactions t JOIN users u ON u.id = t.user_id
		WHERE u.email = 'bob.browser@example.test' AND t.type = 'transfer_in'`).Scan(&bobGot); err != nil || bobGot != 1250 {
		t.Fatalf("bob received %d (%v), want 1250", bobGot, err)
	}

	// Log out, then log in with the passkey alone.
	navigates(t, ctx, "log out", "/wallet/login", chromedp.Click(chromedp.ID("logout")))
	if res := e.Do(apitest.Req{Method: "GET", Path: "/wallet"}); res.Status != http.StatusOK && res.Status != http.StatusSeeOther {
		t.Fatalf("GET /wallet = %d", res.Status)
	}
	navigates(t, ctx, "passkey log-in", "/wallet", chromedp.Click(chromedp.ID("passkey-login")))
	browsertest.Wait(t, ctx, `location.pathname === "/wallet" && document.getElementById("who").textContent.includes("grace@example.test")`)
	browsertest.Wait(t, ctx, `document.getElementById("balances").textContent.includes("37.50")`)
	browsertest.Screenshot(t, ctx, "4-logged-in-with-passkey")
	if n := e.Count("SELECT count(*) FROM user_sessions WHERE method = 'passkey' AND revoked_at IS NULL"); n != 1 {
		t.Errorf("live passkey sessions = %d, want 1", n)
	}
}

func TestWalletPagesCarrySecurityHeaders(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	for _, path := range []string{"/wallet/login", "/wallet/signup"} {
		res := e.Do(apitest.Req{Method: "GET", Path: path})
		csp := res.Header.Get("Content-Security-Policy")
		if res.Status != 200 || !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			strings.Contains(csp, "unsafe-inline") || res.Header.Get("X-Content-Type-Options") != "nosniff" ||
			res.Header.Get("Referrer-Policy") == "" {
			t.Errorf("GET %s = %d, headers %v", path, res.Status, res.Header)
		}
		if strings.Contains(string(res.Body), "<script>") || strings.Contains(string(res.Body), " style=") {
			t.Errorf("%s has inline script or style", path)
		}
	}
	// The account page needs a session.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(e.Base + "/wallet")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/wallet/login?next=/wallet" {
		t.Errorf("GET /wallet without a session = %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	s := e.WalletUser("pages@example.test")
	if res := s.Do(apitest.Req{Method: "GET", Path: "/wallet"}); res.Status != 200 || !strings.Contains(string(res.Body), `data-currencies="AUD,CAD,EUR,GBP,INR,JPY,USD"`) {
		t.Errorf("GET /wallet logged in = %d", res.Status)
	}
	// Logged in, the log-in page sends the browser on to the account.
	s.Client.CheckRedirect = client.CheckRedirect
	if res := s.Do(apitest.Req{Method: "GET", Path: "/wallet/login"}); res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/wallet" {
		t.Errorf("GET /wallet/login logged in = %d to %q", res.Status, res.Header.Get("Location"))
	}
}

func TestWalletBrowserPaysALinkConfirmingWithPasskey(t *testing.T) {
	e := newWalletBrowserEnv(t)
	_, shop := e.SignUp("browser-mugs@shop.test")
	l := e.CreateLink(shop, map[string]any{"amount": 1999, "description": "Green mug"})
	ctx := browsertest.New(t)
	addAuthenticator(t, ctx)

	// A shopper with a wallet: sign up, register a passkey, add money.
	do(t, ctx, chromedp.Navigate(e.Base+"/wallet/signup"),
		chromedp.SendKeys(chromedp.ID("first_name"), "Alan"),
		chromedp.SendKeys(chromedp.ID("last_name"), "Turing"),
		chromedp.SendKeys(chromedp.ID("email"), "alan@example.test"),
		chromedp.SendKeys(chromedp.ID("phone"), "+44 20 7946 0001"),
		chromedp.SendKeys(chromedp.ID("password"), apitest.WalletPassword))
	navigates(t, ctx, "sign up", "/wallet", chromedp.Click(chromedp.ID("signup-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("who").textContent.includes("alan@example.test")`)
	do(t, ctx, chromedp.Click(chromedp.ID("add-passkey")))
	browsertest.Wait(t, ctx, `document.getElementById("message").textContent.includes("Passkey added")`)
	do(t, ctx, chromedp.SendKeys(chromedp.ID("topup_amount"), "30"),
		chromedp.SendKeys(chromedp.ID("card_number"), "5555 5555 5555 4444"),
		chromedp.SendKeys(chromedp.ID("card_exp"), "11/33"),
		chromedp.SendKeys(chromedp.ID("card_cvc"), "321"),
		chromedp.Click(chromedp.ID("topup-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("balances").textContent.includes("$30.00")`)

	// The merchant's checkout page offers the balance; paying asks the
	// passkey, then shows the receipt.
	do(t, ctx, chromedp.Navigate(l.URL))
	browsertest.Wait(t, ctx, `document.getElementById("wallet-balance") && document.getElementById("wallet-balance").textContent.includes("30.00")`)
	browsertest.Screenshot(t, ctx, "1-checkout-with-wallet")
	navigates(t, ctx, "pay from wallet", mustURL(t, l.URL).Path+"/payments/", chromedp.Click(chromedp.ID("wallet-pay-button")))
	browsertest.Wait(t, ctx, `location.pathname.includes("/payments/") && document.readyState === "complete" && document.body.innerText.includes("$19.99")`)
	browsertest.Screenshot(t, ctx, "2-receipt")

	var status, method string
	if err := e.DB.Pool.QueryRow(context.Background(), "SELECT status, method_type FROM payments WHERE payment_link_id = $1", l.ID).
		Scan(&status, &method); err != nil || status != "succeeded" || method != "wallet" {
		t.Fatalf("payment = %s %s (%v), want a succeeded wallet payment", status, method, err)
	}
	if n := e.Count("SELECT count(*) FROM passkeys WHERE sign_count >= 1"); n != 1 {
		t.Errorf("the payment was not confirmed with the passkey (sign count unchanged)")
	}
	e.WantBalance(shop, "USD", 1999)
	do(t, ctx, chromedp.Navigate(e.Base+"/wallet"))
	browsertest.Wait(t, ctx, `document.getElementById("history").textContent.includes("Shop browser-mugs") &&
		document.getElementById("balances").textContent.includes("10.01")`)
	browsertest.Screenshot(t, ctx, "3-wallet-after-payment")
}
