package dashboard_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/passkey"
)

// onLocalhost serves the dashboard as http://localhost:<port>, the origin
// and relying party a browser's WebAuthn accepts without TLS.
func onLocalhost(t *testing.T) func(*httpapi.Deps) {
	return func(d *httpapi.Deps) {
		d.BaseURL = &url.URL{Scheme: "http", Host: "localhost:" + d.BaseURL.Port()}
		pk, err := passkey.New(passkey.Config{RPID: "localhost", RPName: "Paylink", Origins: []string{d.BaseURL.String()},
			Timeout: 2 * time.Minute}, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		d.Passkeys = pk
	}
}

// In Chromium with a virtual authenticator, a merchant signs up, adds a
// passkey in Settings → Passkeys (the password first: a wrong one is
// shown at its field), logs out, signs in with the passkey alone, and
// removes it, confirming with it.
func TestBrowserMerchantPasskey(t *testing.T) {
	e := newBrowserEnv(t, onLocalhost(t))
	base := strings.Replace(e.Base, "127.0.0.1", "localhost", 1)
	ctx := browsertest.New(t)
	auth := browsertest.AddAuthenticator(t, ctx, webauthn.AuthenticatorTransportInternal)

	must(t, chromedp.Do(ctx, chromedp.Navigate(base+"/dashboard/signup")))
	browsertest.Wait(t, ctx, `!!document.getElementById("signup-submit")`)
	must(t, chromedp.Do(ctx,
		chromedp.SendKeys("#name", "Key Mugs"),
		chromedp.SendKeys("#email", "keys@shop.test"),
		chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#signup-submit")))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard" && document.querySelector("h1").textContent.includes("Key Mugs")`)

	// Settings → Passkeys.
	must(t, chromedp.Do(ctx, chromedp.Navigate(base+"/dashboard/settings")))
	browsertest.Wait(t, ctx, `!!document.getElementById("manage-passkeys")`)
	must(t, chromedp.Do(ctx, chromedp.Click("#manage-passkeys")))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard/settings/passkeys" && !!document.getElementById("no-passkeys")`)
	shots(t, ctx, "30-passkeys-none")

	// The step-up comes first: a wrong password is refused at its field,
	// before the authenticator creates anything.
	must(t, chromedp.Do(ctx, chromedp.SendKeys("#passkey-name", "Work laptop"), chromedp.SendKeys("#current-password", "not my password"),
		chromedp.Click("#add-passkey")))
	browsertest.Wait(t, ctx, `!document.getElementById("current-password-error").hidden &&
		document.getElementById("current-password-error").textContent.includes("That is not your password") &&
		document.activeElement.id === "current-password" && !document.getElementById("add-passkey").disabled`)
	shots(t, ctx, "31-passkey-wrong-password")
	creds, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth})
	if err != nil || len(creds.Credentials) != 0 {
		t.Fatalf("the authenticator holds %+v (%v) after a refused step-up", creds, err)
	}

	browsertest.Fill(t, ctx, "#current-password", testPassword)
	must(t, chromedp.Do(ctx, chromedp.Click("#add-passkey")))
	browsertest.Wait(t, ctx, `location.search === "?added=1" && !!document.getElementById("passkeys") &&
		document.getElementById("passkeys").textContent.includes("Work laptop")`)
	shots(t, ctx, "32-passkey-added")

	// Log out. The log-in page offers the passkey in the e-mail field's
	// autofill (conditional mediation); the virtual authenticator, having
	// no person to wait for, picks it at once, and the merchant is in.
	must(t, chromedp.Do(ctx, chromedp.Click(".logout button")))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard" && document.querySelector("h1").textContent.includes("Key Mugs") &&
		!!document.querySelector(".logout")`)
	if n := e.Count(`SELECT count(*) FROM merchant_sessions WHERE method = 'passkey' AND revoked_at IS NULL`); n != 1 {
		t.Fatalf("live passkey sessions after the autofill log-in = %d, want 1", n)
	}

	// Without conditional mediation (a browser that lacks it), the button.
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
		Source: `PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);`}); err != nil {
		t.Fatal(err)
	}
	must(t, chromedp.Do(ctx, chromedp.Click(".logout button")))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard/login" && !!document.getElementById("passkey-login") &&
		!document.getElementById("passkey-login").hidden`)
	shots(t, ctx, "33-login-with-passkey")
	must(t, chromedp.Do(ctx, chromedp.Click("#passkey-login")))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard" && document.querySelector("h1").textContent.includes("Key Mugs") &&
		!!document.querySelector(".logout")`)
	shots(t, ctx, "34-home-after-passkey")
	if n := e.Count(`SELECT count(*) FROM merchant_sessions WHERE method = 'passkey' AND revoked_at IS NULL`); n != 1 {
		t.Fatalf("live passkey sessions = %d, want 1", n)
	}
	if n := e.Count(`SELECT count(*) FROM merchant_sessions WHERE method = 'passkey'`); n != 2 {
		t.Fatalf("passkey sessions = %d, want 2 (autofill, button)", n)
	}
	must(t, chromedp.Do(ctx, chromedp.Navigate(base+"/dashboard/settings")))
	browsertest.Wait(t, ctx, `document.getElementById("sessions").textContent.includes("Logged in with passkey")`)

	// Remove it, confirming with the passkey itself.
	must(t, chromedp.Do(ctx, chromedp.Navigate(base+"/dashboard/settings/passkeys")))
	browsertest.Wait(t, ctx, `!!document.querySelector("#passkeys a[href$='/remove']")`)
	must(t, chromedp.Do(ctx, chromedp.Click("#passkeys a[href$='/remove']")))
	browsertest.Wait(t, ctx, `!!document.getElementById("remove-with-passkey") && document.querySelector("h1").textContent.includes("Work laptop")`)
	shots(t, ctx, "35-passkey-remove")
	must(t, chromedp.Do(ctx, chromedp.Click("#remove-with-passkey")))
	browsertest.Wait(t, ctx, `location.search === "?removed=1" && !!document.getElementById("no-passkeys")`)
	if n := e.Count(`SELECT count(*) FROM merchant_passkeys`); n != 0 {
		t.Fatalf("%d passkeys left after removal", n)
	}
}
