package walletapp_test

import (
	"testing"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// TestWalletBrowserAddsASecondPasskeyAfterConfirming: on the wallet page,
// a user with a passkey adds another one by first confirming with the one
// they have (the step-up prompt), then creating the new one on a second
// authenticator (a security key, say).
func TestWalletBrowserAddsASecondPasskeyAfterConfirming(t *testing.T) {
	e := newWalletBrowserEnv(t)
	e.WalletUser("two.keys@example.test").Do(apitest.Req{Method: "POST", Path: "/v1/wallet/logout"})
	ctx := browsertest.New(t)
	phone := addAuthenticator(t, ctx)

	logInWithPassword(t, ctx, e, "two.keys@example.test")
	do(t, ctx, chromedp.Click(chromedp.ID("add-passkey")))
	browsertest.Wait(t, ctx, `document.getElementById("message").textContent.includes("Passkey added") &&
		document.getElementById("passkeys").children.length === 1 &&
		!document.getElementById("add-passkey").disabled`)

	// A second authenticator; the first still answers the confirmation.
	// (The button stays disabled until the whole page is drawn again,
	// which can be after the list shows the first passkey; a click on it
	// before then does nothing.)
	key := addSecurityKey(t, ctx)
	do(t, ctx, chromedp.Click(chromedp.ID("add-passkey")))
	browsertest.Wait(t, ctx, `document.getElementById("message").textContent.includes("Passkey added") &&
		document.getElementById("passkeys").children.length === 2`)
	browsertest.Screenshot(t, ctx, "two-passkeys-1280")
	do(t, ctx, chromedp.EmulateViewport(375, 800))
	browsertest.Screenshot(t, ctx, "two-passkeys-375")
	for name, a := range map[string]webauthn.AuthenticatorID{"phone": phone, "key": key} {
		creds, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: a})
		if err != nil || len(creds.Credentials) != 1 {
			t.Fatalf("%s holds %+v (%v); want one credential each", name, creds, err)
		}
		if name == "phone" && creds.Credentials[0].SignCount < 1 {
			t.Errorf("the first passkey did not confirm the second (sign count %v)", creds.Credentials[0].SignCount)
		}
	}
	if n := e.Count("SELECT count(*) FROM wallet_notifications WHERE type = 'passkey.added'"); n != 2 {
		t.Errorf("passkey.added notifications = %d, want 2", n)
	}
}
