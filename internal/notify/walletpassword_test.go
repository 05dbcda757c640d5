package notify

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
)

// walletPasswordMails are the two e-mails of a wallet password, to a
// user whose first name hides a line break.
func walletPasswordMails(t *testing.T) map[string]Email {
	t.Helper()
	at := time.Date(2026, 12, 7, 21, 31, 0, 0, time.UTC)
	out := map[string]Email{}
	for name, e := range map[string]Email{
		"wallet-password-reset": WalletPasswordReset("ada@example.test", "Ada\nX", "https://pay.test/wallet/password/reset#token=abc-_123",
			at.Add(time.Hour)),
		"wallet-password-changed": WalletPasswordChanged("ada@example.test", "Ada\nX", at, "from your wallet's settings",
			"https://pay.test/wallet/password/forgot?a=1&b=<2>"),
	} {
		r, err := e.Rendered()
		if err != nil {
			t.Fatal(err)
		}
		out[name] = r
	}
	return out
}

// TestWalletPasswordEmails: the reset e-mail carries the link and says
// when it stops working; the change e-mail has the subject users are told
// to expect and says what to do if it was not them; both greet by a
// one-line name and escape what they show in HTML.
func TestWalletPasswordEmails(t *testing.T) {
	t.Parallel()
	m := walletPasswordMails(t)
	reset, changed := m["wallet-password-reset"], m["wallet-password-changed"]
	if reset.Subject != "Reset your Paylink password" || changed.Subject != "Your Paylink password was changed" {
		t.Errorf("subjects %q, %q", reset.Subject, changed.Subject)
	}
	for _, want := range []string{"https://pay.test/wallet/password/reset#token=abc-_123", "until 7 December 2026, 22:31 UTC", "Hello Ada X,"} {
		if !strings.Contains(reset.Text, want) || !strings.Contains(reset.HTML, want) {
			t.Errorf("reset e-mail lacks %q:\n%s\n%s", want, reset.Text, reset.HTML)
		}
	}
	for _, want := range []string{"7 December 2026 at 21:31 UTC, from your wallet's settings", "If it was not you", "Hello Ada X,"} {
		if !strings.Contains(changed.Text, want) {
			t.Errorf("changed e-mail text lacks %q:\n%s", want, changed.Text)
		}
	}
	if !strings.Contains(changed.Text, "https://pay.test/wallet/password/forgot?a=1&b=<2>") ||
		!strings.Contains(changed.HTML, "https://pay.test/wallet/password/forgot?a=1&amp;b=%3c2%3e") {
		t.Errorf("forgot link:\n%s\n%s", changed.Text, changed.HTML)
	}
}

// The two e-mails as a mail reader shows them, on a phone and on a
// desktop: screenshots under artifacts/screenshots/.
func TestBrowserRendersWalletPasswordEmails(t *testing.T) {
	mails := walletPasswordMails(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, ok := mails[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, e.HTML)
	}))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)
	for _, name := range []string{"wallet-password-reset", "wallet-password-changed"} {
		for _, width := range []int64{390, 1280} {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate(srv.URL+"/"+name)); err != nil {
				t.Fatal(err)
			}
			browsertest.Wait(t, ctx, fmt.Sprintf(`document.title === %q && document.body.innerText.includes("Hello Ada X")`, mails[name].Subject))
			browsertest.Wait(t, ctx, `document.documentElement.scrollWidth <= window.innerWidth`)
			browsertest.Screenshot(t, ctx, fmt.Sprintf("%s-%d", name, width))
		}
	}
}
