package walletapp_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// passkeyItem is the expression of the list item of the passkey named name
// (null when there is none).
func passkeyItem(name string) string {
	return `Array.from(document.querySelectorAll("#passkeys li")).find(function (li) {
		var w = li.querySelector(".what"); return w && w.textContent === ` + jsString(name) + `; })`
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// passkeysDrawn is true once the wallet page's list of passkeys is not
// being redrawn: its buttons stay the nodes they are.
const passkeysDrawn = `!document.getElementById("passkeys").hasAttribute("aria-busy")`

// passkeyNames waits until the wallet page lists exactly want (newest
// first), drawn.
func passkeyNames(t *testing.T, ctx context.Context, want ...string) {
	t.Helper()
	browsertest.WaitEval(t, ctx, "the passkeys listed to be "+strings.Join(want, ", "),
		`(`+passkeysDrawn+` ? "" : "busy:") +
		Array.from(document.querySelectorAll("#passkeys li .what")).map(function (e) { return e.textContent; }).join("|")`,
		func(s string) bool { return s == strings.Join(want, "|") })
}

// TestWalletBrowserManagesPasskeys: on the wallet page, with the keyboard
// only, a user renames a passkey (an empty name is refused in place,
// sending nothing), withdraws with a passkey confirmation, starts removing
// a passkey and keeps it, then removes it: the page asks first, and the
// removal is confirmed with a passkey in the browser's authenticator, as
// the session began with the password. Removing the last one puts the
// page back to "no passkey". Each removal is notified and e-mailed.
func TestWalletBrowserManagesPasskeys(t *testing.T) {
	e := newWalletBrowserEnv(t)
	owner := e.WalletUser("keys.owner@example.test")
	owner.TopUp(5000, "USD")
	owner.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/logout"})
	ctx := browsertest.New(t)
	phone := addAuthenticator(t, ctx)

	logInWithPassword(t, ctx, e, "keys.owner@example.test")
	do(t, ctx, chromedp.Click(chromedp.ID("add-passkey")))
	passkeyNames(t, ctx, "Passkey")
	// A second passkey on a security key (confirmed by the phone's).
	key := addSecurityKey(t, ctx)
	browsertest.Wait(t, ctx, `!document.getElementById("add-passkey").disabled`)
	do(t, ctx, chromedp.Click(chromedp.ID("add-passkey")))
	passkeyNames(t, ctx, "Passkey 2", "Passkey")

	// Rename "Passkey 2" with the keyboard: its Rename button, Enter, a
	// field holding the old name, focused and selected.
	do(t, ctx, chromedp.Focus(chromedp.CSS(`#passkeys li:first-child button.rename`)), chromedp.KeyEvent(kb.Enter))
	browsertest.Wait(t, ctx, `document.activeElement && document.activeElement.tagName === "INPUT" &&
		document.activeElement.value === "Passkey 2" && document.activeElement.labels[0].textContent === "New name for Passkey 2"`)
	// An empty name is refused in place; nothing is sent.
	do(t, ctx, chromedp.KeyEvent(kb.Backspace), chromedp.KeyEvent(kb.Enter))
	browsertest.Wait(t, ctx, `document.activeElement.getAttribute("aria-invalid") === "true" &&
		document.getElementById(document.activeElement.getAttribute("aria-describedby")).textContent === "Enter a name."`)
	shots(t, ctx, "1-rename-empty-name")
	do(t, ctx, chromedp.KeyEvent("Security key"), chromedp.KeyEvent(kb.Enter))
	passkeyNames(t, ctx, "Security key", "Passkey")
	browsertest.WaitText(t, ctx, "#message", "Passkey renamed to \u201cSecurity key\u201d.")
	browsertest.Wait(t, ctx, `document.activeElement === `+passkeyItem("Security key")+`.querySelector("button.rename")`)
	if n := e.Count("SELECT count(*) FROM passkeys WHERE name = 'Security key'"); n != 1 {
		t.Fatalf("passkeys named Security key in the database = %d, want 1", n)
	}

	// A withdrawal needs a passkey's confirmation: the page asks the
	// authenticator before sending it.
	signs := signCount(t, ctx, phone) + signCount(t, ctx, key)
	do(t, ctx, chromedp.SendKeys(chromedp.ID("withdraw_amount"), "20.00"),
		chromedp.SendKeys(chromedp.ID("withdraw_card_number"), "4242 4242 4242 4242"),
		chromedp.SendKeys(chromedp.ID("withdraw_card_exp"), "12/30"),
		chromedp.SendKeys(chromedp.ID("withdraw_card_cvc"), "123"),
		chromedp.Focus(chromedp.ID("withdraw-submit")), chromedp.KeyEvent(kb.Enter))
	// The withdrawal redraws the passkeys too (one was just used): wait for
	// that before pressing one of their buttons.
	browsertest.Wait(t, ctx, `document.getElementById("message").textContent.startsWith("Withdrawing ") &&
		document.querySelector("#history li .what").textContent === "Withdrawal" &&
		document.querySelector("#balances li").textContent.includes("30.00") && `+passkeysDrawn)
	if after := signCount(t, ctx, phone) + signCount(t, ctx, key); after <= signs {
		t.Errorf("sign counts %v before and %v after the withdrawal: no passkey confirmed it", signs, after)
	}
	if n := e.Count("SELECT count(*) FROM wallet_transactions WHERE type = 'withdrawal' AND amount = 2000"); n != 1 {
		t.Fatalf("withdrawals stored = %d, want 1", n)
	}

	// Remove "Passkey" (the phone's): the page asks first, with the focus
	// on keeping it; Escape keeps it.
	do(t, ctx, chromedp.Focus(chromedp.CSS(`#passkeys li:nth-child(2) button.remove`)), chromedp.KeyEvent(kb.Enter))
	browsertest.Wait(t, ctx, passkeyItem("Passkey")+`.querySelector("[role=group] p").textContent.startsWith("Remove \u201cPasskey\u201d?") &&
		document.activeElement.textContent === "Keep it"`)
	shots(t, ctx, "2-confirm-removal")
	do(t, ctx, chromedp.KeyEvent(kb.Escape))
	browsertest.Wait(t, ctx, `!`+passkeyItem("Passkey")+`.querySelector("[role=group]") &&
		document.activeElement === `+passkeyItem("Passkey")+`.querySelector("button.remove")`)
	if n := e.Count("SELECT count(*) FROM passkeys"); n != 2 {
		t.Fatalf("passkeys after keeping it = %d, want 2", n)
	}
	signs = signCount(t, ctx, phone) + signCount(t, ctx, key)
	do(t, ctx, chromedp.KeyEvent(kb.Enter))
	browsertest.Wait(t, ctx, `document.activeElement.textContent === "Keep it"`)
	backTab(t, ctx, "Remove passkey") // from "Keep it"
	do(t, ctx, chromedp.KeyEvent(kb.Enter))
	passkeyNames(t, ctx, "Security key")
	browsertest.WaitText(t, ctx, "#message", "Passkey \u201cPasskey\u201d removed.")
	browsertest.Wait(t, ctx, `document.activeElement === document.getElementById("add-passkey")`)
	browsertest.Wait(t, ctx, `document.getElementById("notifications").textContent.includes('A passkey named "Passkey" was removed from')`)
	shots(t, ctx, "3-removed")
	// The session began with the password, so the server took the removal
	// only with a passkey's assertion: one of the authenticators signed.
	if after := signCount(t, ctx, phone) + signCount(t, ctx, key); after <= signs {
		t.Errorf("sign counts %v before and %v after the removal: no passkey confirmed it", signs, after)
	}
	if n := e.Count("SELECT count(*) FROM passkeys WHERE name = 'Passkey'"); n != 0 {
		t.Fatalf("the removed passkey is still stored (%d rows)", n)
	}

	// Remove the last one: payments no longer ask for a passkey, and the
	// page says so.
	do(t, ctx, chromedp.Focus(chromedp.CSS(`#passkeys li:first-child button.remove`)), chromedp.KeyEvent(kb.Enter))
	browsertest.Wait(t, ctx, `document.activeElement.textContent === "Keep it"`)
	backTab(t, ctx, "Remove passkey")
	do(t, ctx, chromedp.KeyEvent(kb.Enter))
	passkeyNames(t, ctx)
	browsertest.WaitText(t, ctx, "#message", "Passkey \u201cSecurity key\u201d removed.")
	browsertest.WaitText(t, ctx, "#passkey-status",
		"Log in and confirm payments with your fingerprint, face or device PIN instead of a password.")

	if n := e.Count("SELECT count(*) FROM passkeys"); n != 0 {
		t.Fatalf("passkeys left = %d, want 0", n)
	}
	if n := e.Count("SELECT count(*) FROM wallet_notifications WHERE type = 'passkey.removed'"); n != 2 {
		t.Errorf("passkey.removed notifications = %d, want 2", n)
	}
	var body string
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT body FROM emails WHERE to_addr = 'keys.owner@example.test'
		AND subject = 'Paylink wallet: a passkey was removed from your account' ORDER BY created_at, id LIMIT 1`).Scan(&body); err != nil {
		t.Fatalf("the removal e-mail: %v", err)
	}
	t.Logf("removal e-mail:\n%s", body)
	if !strings.Contains(body, `A passkey named "Passkey" was removed from your Paylink wallet.`) {
		t.Errorf("the removal e-mail does not name the passkey:\n%s", body)
	}
}

// backTab presses Shift+Tab and waits for the focus to be on the button
// labelled label.
func backTab(t *testing.T, ctx context.Context, label string) {
	t.Helper()
	do(t, ctx, chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)))
	browsertest.Wait(t, ctx, `document.activeElement.textContent === `+jsString(label))
}

// signCount is how many assertions authenticator a has signed with its
// one credential.
func signCount(t *testing.T, ctx context.Context, a webauthn.AuthenticatorID) float64 {
	t.Helper()
	creds, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: a})
	if err != nil || len(creds.Credentials) != 1 {
		t.Fatalf("authenticator %s holds %+v (%v); want one credential", a, creds, err)
	}
	return creds.Credentials[0].SignCount
}
