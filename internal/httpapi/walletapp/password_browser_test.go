package walletapp_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/smtpsink"
)

// deliver sends the newest e-mail to to with subject over SMTP to a
// local sink, as the worker would, and returns its plain-text part as
// received.
func deliver(t *testing.T, e *apitest.Env, to, subject string) string {
	t.Helper()
	handle, inbox := smtpsink.Chan(1)
	sink, err := smtpsink.Listen("127.0.0.1:0", handle)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	from, _ := mail.ParseAddress("Paylink <wallet@paylink.test>")
	sender := notify.NewSender(e.DB, notify.SMTP{Host: "127.0.0.1", Port: sink.Addr().Port, From: from, Timeout: 10 * time.Second}, time.Now).WithKeys(e.Keys)
	ctx := context.Background()
	var id string
	if err := e.DB.Pool.QueryRow(ctx, `SELECT id FROM emails WHERE to_addr = $1 AND subject = $2 ORDER BY id DESC LIMIT 1`,
		to, subject).Scan(&id); err != nil {
		t.Fatalf("e-mail %q to %s: %v", subject, to, err)
	}
	if err := sender.Send(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	m := <-inbox // Send returned after the sink accepted it
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); got != subject || m.To[0] != to {
		t.Fatalf("received %q to %v; want %q to %s", got, m.To, subject, to)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	parts := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := parts.NextPart() // decodes quoted-printable
		if err != nil {
			t.Fatalf("no text part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, err := io.ReadAll(p)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}

// TestWalletBrowserResetsAForgottenPassword: from the log-in page's
// "Forgot your password?", the user asks for a link, opens it from the
// e-mail as delivered over SMTP, sets a new password and logs in with
// it; the same link then says it was used. Logged in, the wallet page's
// Password card changes it again. Screenshots of each page at 390 and
// 1280 pixels.
func TestWalletBrowserResetsAForgottenPassword(t *testing.T) {
	e := newWalletBrowserEnv(t)
	const email = "reset.browser@example.test"
	e.WalletUser(email)
	ctx := browsertest.New(t)
	shots := func(step string) {
		t.Helper()
		for _, w := range []int64{390, 1280} {
			do(t, ctx, chromedp.EmulateViewport(w, 844))
			browsertest.Wait(t, ctx, `document.documentElement.scrollWidth <= window.innerWidth`)
			browsertest.Screenshot(t, ctx, fmt.Sprintf("%s-%d", step, w))
		}
	}

	do(t, ctx, chromedp.Navigate(e.Base+"/wallet/login"))
	shots("1-login")
	navigates(t, ctx, "forgot", "/wallet/password/forgot", chromedp.Click(chromedp.ID("forgot-link")))
	shots("2-forgot")
	do(t, ctx, chromedp.SendKeys(chromedp.ID("email"), email), chromedp.Click(chromedp.ID("forgot-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("message").textContent.includes("we sent it a link") &&
		document.getElementById("forgot-form").hidden`)
	shots("3-forgot-sent")

	text := deliver(t, e, email, "Reset your Paylink password")
	link := regexp.MustCompile(`http://localhost:\d+/wallet/password/reset#token=[A-Za-z0-9_-]+`).FindString(text)
	if link == "" || !strings.HasPrefix(link, e.Base+"/") {
		t.Fatalf("no reset link for %s in:\n%s", e.Base, text)
	}
	do(t, ctx, chromedp.Navigate(link))
	shots("4-reset")
	do(t, ctx, chromedp.SendKeys(chromedp.ID("new_password"), "short"), chromedp.Click(chromedp.ID("reset-submit")))
	browsertest.WaitText(t, ctx, "#message", "The new password must be at least 10 characters.")
	browsertest.Fill(t, ctx, "#new_password", newWalletPassword)
	do(t, ctx, chromedp.Click(chromedp.ID("reset-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("message").textContent.includes("Your password was changed") &&
		document.getElementById("reset-form").hidden`)
	shots("5-reset-done")

	// The link works once.
	do(t, ctx, chromedp.Navigate("about:blank"), chromedp.Navigate(link))
	browsertest.Fill(t, ctx, "#new_password", "yet another password")
	do(t, ctx, chromedp.Click(chromedp.ID("reset-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("message").textContent.includes("already used") &&
		document.getElementById("reset-form").hidden`)
	shots("6-reset-used")
	// Without a token, the page says where to get one.
	do(t, ctx, chromedp.Navigate(e.Base+"/wallet/password/reset"))
	browsertest.Wait(t, ctx, `document.getElementById("message").textContent.includes("needs the link") &&
		document.getElementById("reset-form").hidden`)

	// The new password logs in; the Password card changes it again.
	do(t, ctx, chromedp.EmulateViewport(1280, 844), chromedp.Navigate(e.Base+"/wallet/login"),
		chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), newWalletPassword))
	navigates(t, ctx, "log in", "/wallet", chromedp.Click(chromedp.ID("login-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("who").textContent.includes("`+email+`")`)
	do(t, ctx, chromedp.ScrollIntoView(chromedp.ID("password-form")),
		chromedp.SendKeys(chromedp.ID("current_password"), "not my password"),
		chromedp.SendKeys(chromedp.ID("new_password"), apitest.WalletPassword),
		chromedp.Click(chromedp.ID("password-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("current_password-error").textContent === "The current password is wrong; nothing was changed." &&
		document.getElementById("current_password").getAttribute("aria-invalid") === "true"`)
	shots("7-change-wrong")
	browsertest.Fill(t, ctx, "#current_password", newWalletPassword)
	do(t, ctx, chromedp.Click(chromedp.ID("password-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("password-message").textContent.startsWith("Password changed.") &&
		document.getElementById("current_password").value === "" && !document.getElementById("current_password").hasAttribute("aria-invalid")`)
	shots("8-change-done")
	if res := logIn(e, email, apitest.WalletPassword); res.Status != 200 {
		t.Errorf("log in with the changed password: %d %s", res.Status, res.Body)
	}
	if got := deliver(t, e, email, "Your Paylink password was changed"); !strings.Contains(got, "from your wallet's settings") ||
		!strings.Contains(got, e.Base+"/wallet/password/forgot") {
		t.Errorf("password-changed e-mail:\n%s", got)
	}
}

// TestWalletBrowserChangesThePasswordWithThePasskey: for a user with a
// passkey whose session began with the password, the Password card's
// change is refused by the server until the passkey confirms it; the
// page asks the passkey and sends the change again on its own.
func TestWalletBrowserChangesThePasswordWithThePasskey(t *testing.T) {
	e := newWalletBrowserEnv(t)
	const email = "stepup.browser@example.test"
	e.WalletUser(email)
	ctx := browsertest.New(t)
	auth := addAuthenticator(t, ctx)
	logInWithPassword(t, ctx, e, email)
	do(t, ctx, chromedp.Click(chromedp.ID("add-passkey")))
	browsertest.Wait(t, ctx, `document.getElementById("message").textContent.includes("Passkey added")`)
	signs := func() float64 {
		t.Helper()
		creds, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth})
		if err != nil || len(creds.Credentials) != 1 {
			t.Fatalf("authenticator credentials = %+v, %v; want one", creds, err)
		}
		return creds.Credentials[0].SignCount
	}
	before := signs()

	do(t, ctx, chromedp.ScrollIntoView(chromedp.ID("password-form")),
		chromedp.SendKeys(chromedp.ID("current_password"), apitest.WalletPassword),
		chromedp.SendKeys(chromedp.ID("new_password"), newWalletPassword),
		chromedp.Click(chromedp.ID("password-submit")))
	browsertest.Wait(t, ctx, `document.getElementById("password-message").textContent.startsWith("Password changed.")`)
	if after := signs(); after != before+1 {
		t.Errorf("the passkey signed %v times for the change; want once, the step-up", after-before)
	}
	if res := logIn(e, email, newWalletPassword); res.Status != 200 {
		t.Errorf("log in with the changed password: %d %s", res.Status, res.Body)
	}
}
