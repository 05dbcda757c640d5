package passwordpages_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/smtpsink"
)

// In Chromium, a merchant who forgot its password asks for a link from
// the log-in page, gets it by e-mail over SMTP, sets a new password
// (a short one is refused at its field), and is logged in while its
// other browser is logged out; the link then says it no longer works.
// Then it changes the password in Settings → Password, a wrong current
// password first. Every page, and each e-mail, is captured at 390 and
// 1280 px.
func TestBrowserResetAndChangePassword(t *testing.T) {
	env := browserEnv(t)
	inbox := mailer(t, env)
	newBrowser(env).signUp("reset@mugs.test")
	other := newBrowser(env)
	if res := other.logIn("reset@mugs.test", testPassword); res.Status != http.StatusSeeOther {
		t.Fatal(res.Status)
	}
	ctx := browsertest.New(t)
	run := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatal(err)
		}
	}

	run(chromedp.Navigate(env.Base + "/dashboard/login"))
	browsertest.Wait(t, ctx, `!!document.getElementById("forgot-password")`)
	shots(t, ctx, "10-login")
	run(chromedp.Click("#forgot-password"))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard/password/forgot" && !!document.getElementById("forgot-submit")`)
	shots(t, ctx, "11-forgot")
	browsertest.Fill(t, ctx, "#email", "reset@mugs.test")
	run(chromedp.Click("#forgot-submit"))
	waitFor(t, ctx, "#forgot-sent", "If reset@mugs.test is the log-in address")
	shots(t, ctx, "12-forgot-sent")

	resetMail := inbox.next("Reset your Paylink dashboard password")
	link := tokenInLink.FindString(resetMail.Body)
	if link == "" {
		t.Fatalf("no link in:\n%s", resetMail.Body)
	}
	inbox.shots(ctx, resetMail, "13-email-reset")

	run(chromedp.Navigate(env.Base + link))
	browsertest.Wait(t, ctx, `!!document.getElementById("reset-submit")`)
	shots(t, ctx, "14-reset")
	browsertest.Fill(t, ctx, "#new-password", "short")
	run(chromedp.Click("#reset-submit"))
	waitFor(t, ctx, "#new-password-error", "at least 10 characters")
	shots(t, ctx, "15-reset-too-short")
	browsertest.Fill(t, ctx, "#new-password", newPassword)
	run(chromedp.Click("#reset-submit"))
	waitFor(t, ctx, "#password-done", "Password reset. You are logged in here")
	shots(t, ctx, "16-reset-done")
	if other.loggedIn() {
		t.Error("the other browser is still logged in after the reset")
	}
	inbox.shots(ctx, inbox.next("Your Paylink password was changed"), "17-email-changed-by-reset")

	run(chromedp.Navigate(env.Base + link))
	waitFor(t, ctx, "#reset-invalid", "was already used")
	shots(t, ctx, "18-reset-link-used")

	// Settings → Password.
	run(chromedp.Navigate(env.Base + "/dashboard/settings"))
	browsertest.Wait(t, ctx, `!!document.getElementById("change-password-link")`)
	shots(t, ctx, "20-settings")
	run(chromedp.Click("#change-password-link"))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard/settings/password" && !!document.getElementById("change-password")`)
	shots(t, ctx, "21-change")
	browsertest.Fill(t, ctx, "#current-password", "not my password")
	browsertest.Fill(t, ctx, "#new-password", "another good password")
	run(chromedp.Click("#change-password"))
	waitFor(t, ctx, "#current-password-error", "That is not your current password. Nothing was changed.")
	shots(t, ctx, "22-change-wrong-current")
	browsertest.Fill(t, ctx, "#current-password", newPassword)
	browsertest.Fill(t, ctx, "#new-password", "another good password")
	run(chromedp.Click("#change-password"))
	waitFor(t, ctx, "#password-done", "Password changed.")
	shots(t, ctx, "23-change-done")
	inbox.shots(ctx, inbox.next("Your Paylink password was changed"), "24-email-changed")
	if res := newBrowser(env).logIn("reset@mugs.test", "another good password"); res.Status != http.StatusSeeOther {
		t.Errorf("the changed password does not log in: %d", res.Status)
	}
}

// browserEnv serves the platform on a port of its own at localhost, so
// that the links it e-mails name the address the browser reaches it at.
func browserEnv(t *testing.T) *apitest.Env {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// On localhost, the origin a browser's WebAuthn accepts without TLS:
	// the log-in page's passkey autofill starts quietly.
	base := &url.URL{Scheme: "http", Host: fmt.Sprintf("localhost:%d", ln.Addr().(*net.TCPAddr).Port)}
	env := apitest.New(t, func(d *httpapi.Deps) {
		d.BaseURL = base
		pk, err := passkey.New(passkey.Config{RPID: "localhost", RPName: "Paylink", Origins: []string{base.String()},
			Timeout: 2 * time.Minute}, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		d.Passkeys = pk
	})
	ts := httptest.NewUnstartedServer(env.Server)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	env.Base = base.String()
	return env
}

// sink is the local SMTP test server and the sender relaying the
// e-mail outbox to it, as the worker does.
type sink struct {
	t      *testing.T
	env    *apitest.Env
	sender *notify.Sender
	inbox  <-chan smtpsink.Message
	page   *httptest.Server
	shown  atomic.Pointer[string] // the e-mail the page shows
}

func mailer(t *testing.T, env *apitest.Env) *sink {
	handle, inbox := smtpsink.Chan(10)
	srv, err := smtpsink.Listen("127.0.0.1:0", handle)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	from, _ := mail.ParseAddress("Paylink <accounts@paylink.test>")
	s := &sink{t: t, env: env, inbox: inbox,
		sender: notify.NewSender(env.DB, notify.SMTP{Host: "127.0.0.1", Port: srv.Addr().Port, From: from, Timeout: 10 * time.Second}, time.Now).WithKeys(env.Keys)}
	s.page = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, *s.shown.Load())
	}))
	t.Cleanup(s.page.Close)
	return s
}

// next sends the outbox's unsent e-mails and returns the next one
// received over SMTP, which must have subject.
func (s *sink) next(subject string) email {
	s.t.Helper()
	ctx := s.t.Context()
	rows, err := s.env.DB.Pool.Query(ctx, `SELECT id FROM emails WHERE sent_at IS NULL AND failed_at IS NULL ORDER BY id`)
	if err != nil {
		s.t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			s.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if rows.Close(); rows.Err() != nil {
		s.t.Fatal(rows.Err())
	}
	for _, id := range ids {
		if err := s.sender.Send(ctx, id, true); err != nil {
			s.t.Fatal(err)
		}
	}
	select {
	case m := <-s.inbox:
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			s.t.Fatal(err)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if err != nil {
			s.t.Fatal(err)
		}
		got, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if got != subject || len(m.To) != 1 || m.To[0] != "reset@mugs.test" {
			s.t.Fatalf("e-mail %q to %v; want %q to reset@mugs.test:\n%s", got, m.To, subject, body)
		}
		return email{To: m.To[0], Subject: got, Body: string(body)}
	case <-time.After(browsertest.WaitTimeout):
		s.t.Fatalf("no e-mail %q over SMTP", subject)
		return email{}
	}
}

// shots captures m as a mail reader shows a plain-text e-mail.
func (s *sink) shots(ctx context.Context, m email, step string) {
	s.t.Helper()
	page := fmt.Sprintf(`<!doctype html><html><head><meta name="viewport" content="width=device-width"><title>%s</title></head>
<body style="font:15px/1.5 system-ui,sans-serif;margin:16px"><p><b>To:</b> %s<br><b>Subject:</b> %s</p><hr>
<pre style="white-space:pre-wrap;overflow-wrap:anywhere;font:inherit">%s</pre></body></html>`,
		html.EscapeString(m.Subject), html.EscapeString(m.To), html.EscapeString(m.Subject), html.EscapeString(m.Body))
	s.shown.Store(&page)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.page.URL)); err != nil {
		s.t.Fatal(err)
	}
	browsertest.Wait(s.t, ctx, fmt.Sprintf(`document.title === %q`, m.Subject))
	shots(s.t, ctx, step)
}

// shots saves step's screenshot at phone (390 px) and desktop (1280 px)
// width, after checking that every visible field has a label and that
// nothing is wider than the phone.
func shots(t *testing.T, ctx context.Context, step string) {
	t.Helper()
	browsertest.Wait(t, ctx, `[...document.querySelectorAll('input:not([type=hidden]):not([hidden]), select, textarea')]
		.every(e => e.labels && e.labels.length > 0 && e.labels[0].textContent.trim() !== "")`)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	browsertest.Wait(t, ctx, `window.innerWidth === 390 && document.documentElement.scrollWidth <= document.documentElement.clientWidth`)
	browsertest.Screenshot(t, ctx, step+"-390")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	browsertest.Wait(t, ctx, `window.innerWidth === 1280`)
	browsertest.Screenshot(t, ctx, step+"-1280")
}

// waitFor waits until the element of selector holds text.
func waitFor(t *testing.T, ctx context.Context, selector, text string) {
	t.Helper()
	browsertest.Wait(t, ctx, fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent.includes(%q)`, selector, text))
}
