package passwordpages_test

import (
	"crypto/sha256"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// TestChangePassword: a wrong current password is said at its field and
// changes nothing (the hash, the other sessions, no e-mail); a short new
// one is password_too_short; the right one changes the password, keeps
// this session, ends the merchant's other sessions, and e-mails the
// log-in address.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	here := newBrowser(env)
	mid := here.signUp("pw@change.test")
	other := newBrowser(env)
	if res := other.logIn("pw@change.test", testPassword); res.Status != http.StatusSeeOther {
		t.Fatalf("second log-in: %d %s", res.Status, res.Body)
	}
	before := passwordHash(t, env, mid)

	wantBody(t, here.get("/dashboard/settings"), http.StatusOK, `href="/dashboard/settings/password"`)
	wantBody(t, here.get("/dashboard/settings/password"), http.StatusOK, "Change your password", `name="current_password"`)

	res := here.form("/dashboard/settings/password", url.Values{"current_password": {"not my password"}, "password": {newPassword}})
	wantBody(t, res, http.StatusUnauthorized, `id="current-password-error"`, "That is not your current password. Nothing was changed.")
	res = here.form("/dashboard/settings/password", url.Values{"current_password": {testPassword}, "password": {"short"}})
	wantBody(t, res, http.StatusBadRequest, `id="new-password-error"`, "at least 10 characters")
	if passwordHash(t, env, mid) != before || !other.loggedIn() || len(mails(t, env, "pw@change.test")) != 0 {
		t.Fatal("a refused change changed the password, ended a session, or sent an e-mail")
	}

	res = here.form("/dashboard/settings/password", url.Values{"current_password": {testPassword}, "password": {newPassword}})
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/dashboard/settings/password?done=changed" {
		t.Fatalf("change: %d %s %s", res.Status, res.Header.Get("Location"), res.Body)
	}
	wantBody(t, here.get("/dashboard/settings/password?done=changed"), http.StatusOK, "Password changed.")
	if other.loggedIn() {
		t.Error("the other browser is still logged in after the change")
	}
	if !here.loggedIn() {
		t.Error("the browser that changed the password was logged out")
	}
	if passwordHash(t, env, mid) == before || !strings.HasPrefix(passwordHash(t, env, mid), "$argon2id$") {
		t.Errorf("stored hash %q", passwordHash(t, env, mid))
	}
	if res := newBrowser(env).logIn("pw@change.test", testPassword); res.Status != http.StatusUnauthorized {
		t.Errorf("the old password logs in: %d", res.Status)
	}
	if res := newBrowser(env).logIn("pw@change.test", newPassword); res.Status != http.StatusSeeOther {
		t.Errorf("the new password does not log in: %d %s", res.Status, res.Body)
	}
	got := mails(t, env, "pw@change.test")
	if len(got) != 1 || got[0].Subject != "Your Paylink password was changed" || !strings.Contains(got[0].Body, "in the dashboard's settings") ||
		strings.Contains(got[0].Body, newPassword) {
		t.Errorf("e-mails: %+v", got)
	}
}

// TestChangePasswordIsLockedOut: the current password is checked in the
// log-in's lock-out, so guessing it through the form locks the merchant
// out like guessing at the log-in does, the right one included.
func TestChangePasswordIsLockedOut(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	b := newBrowser(env)
	mid := b.signUp("pw@locked.test")
	before := passwordHash(t, env, mid)
	for range 10 { // apitest's MaxFailures
		res := b.form("/dashboard/settings/password", url.Values{"current_password": {"guess guess guess"}, "password": {newPassword}})
		wantBody(t, res, http.StatusUnauthorized, "That is not your current password.")
	}
	res := b.form("/dashboard/settings/password", url.Values{"current_password": {testPassword}, "password": {newPassword}})
	wantBody(t, res, http.StatusTooManyRequests, "Too many failed log-ins.")
	if passwordHash(t, env, mid) != before {
		t.Error("a locked-out merchant changed its password")
	}
	if res := newBrowser(env).logIn("pw@locked.test", testPassword); res.Status != http.StatusTooManyRequests {
		t.Errorf("log-in after the guesses: %d, want 429", res.Status)
	}
}

var sectionRE = regexp.MustCompile(`(?s)<section.*</section>`)

// TestForgotPasswordSameAnswer: the page answers the same for an address
// with an account and one without; only the account's address gets an
// e-mail, and its token is stored only as a SHA-256.
func TestForgotPasswordSameAnswer(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	mid := newBrowser(env).signUp("pw@forgot.test")
	wantBody(t, newBrowser(env).get("/dashboard/login"), http.StatusOK, `href="/dashboard/password/forgot"`)
	wantBody(t, newBrowser(env).get("/dashboard/password/forgot"), http.StatusOK, "Forgot your password?", `name="email"`)

	answer := func(email string) string {
		res := newBrowser(env).form("/dashboard/password/forgot", url.Values{"email": {email}})
		wantBody(t, res, http.StatusOK, "we have e-mailed it a link")
		return strings.ReplaceAll(sectionRE.FindString(string(res.Body)), email, "EMAIL")
	}
	known, unknown := answer("pw@forgot.test"), answer("nobody@forgot.test")
	if known != unknown || known == "" {
		t.Errorf("answers differ:\n%s\n---\n%s", known, unknown)
	}
	if n := len(mails(t, env, "nobody@forgot.test")); n != 0 {
		t.Errorf("%d e-mails to an address without an account", n)
	}
	got := mails(t, env, "pw@forgot.test")
	if len(got) != 1 {
		t.Fatalf("e-mails: %+v", got)
	}
	token := resetToken(t, got[0])
	if !strings.Contains(got[0].Body, "http://paylink.test/dashboard/password/reset?token="+token) || !strings.Contains(got[0].Body, "within 1 hour") {
		t.Errorf("e-mail: %s", got[0].Body)
	}
	sum := sha256.Sum256([]byte(token))
	var rows, hashed int
	var all string
	if err := env.DB.Pool.QueryRow(t.Context(), `SELECT count(*), count(*) FILTER (WHERE token_hash = $1 AND merchant_id = $2),
		coalesce(string_agg(t::text || encode(token_hash, 'escape'), ' '), '') FROM merchant_password_resets t`, sum[:], mid).Scan(&rows, &hashed, &all); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || hashed != 1 || strings.Contains(all, token) {
		t.Errorf("%d resets stored, %d under the token's SHA-256; the token in plaintext: %t", rows, hashed, strings.Contains(all, token))
	}
	res := newBrowser(env).form("/dashboard/password/forgot", url.Values{"email": {"not an address"}})
	wantBody(t, res, http.StatusBadRequest, `id="email-error"`)
}

// TestForgotPasswordIsRateLimited: asking for links is limited per client
// IP and e-mail as log-ins are; past the limit nothing is sent.
func TestForgotPasswordIsRateLimited(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(d *httpapi.Deps) { d.Limits.Login = limiter.Rate{Period: time.Hour, Limit: 3} })
	newBrowser(env).signUp("pw@limit.test")
	for range 3 {
		wantBody(t, newBrowser(env).form("/dashboard/password/forgot", url.Values{"email": {"pw@limit.test"}}), http.StatusOK)
	}
	res := newBrowser(env).form("/dashboard/password/forgot", url.Values{"email": {"pw@limit.test"}})
	wantBody(t, res, http.StatusTooManyRequests)
	if res.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if n := len(mails(t, env, "pw@limit.test")); n != 3 {
		t.Errorf("%d e-mails, want 3", n)
	}
}

// TestResetPassword: a link sets a new password once: it ends every
// session of the merchant and voids its other links, logs this browser
// in, and e-mails the change; a short password leaves the link working;
// a used, unknown or expired (after an hour, on the server's clock) link
// is a page saying so and changes nothing.
func TestResetPassword(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	mid := newBrowser(env).signUp("pw@reset.test")
	other := newBrowser(env)
	if res := other.logIn("pw@reset.test", testPassword); res.Status != http.StatusSeeOther {
		t.Fatal(res.Status)
	}
	forgot := func() string {
		wantBody(t, newBrowser(env).form("/dashboard/password/forgot", url.Values{"email": {"pw@reset.test"}}), http.StatusOK)
		m := mails(t, env, "pw@reset.test")
		return resetToken(t, m[len(m)-1])
	}
	first, second := forgot(), forgot()
	before := passwordHash(t, env, mid)

	b := newBrowser(env)
	wantBody(t, b.get("/dashboard/password/reset?token="+first), http.StatusOK, "Choose a new password", `name="token" value="`+first+`"`)
	res := b.form("/dashboard/password/reset", url.Values{"token": {first}, "password": {"short"}})
	wantBody(t, res, http.StatusBadRequest, `id="new-password-error"`)
	if passwordHash(t, env, mid) != before || !other.loggedIn() {
		t.Fatal("a refused reset changed something")
	}

	res = b.form("/dashboard/password/reset", url.Values{"token": {first}, "password": {newPassword}})
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/dashboard/settings/password?done=reset" {
		t.Fatalf("reset: %d %s %s", res.Status, res.Header.Get("Location"), res.Body)
	}
	if !b.loggedIn() || other.loggedIn() {
		t.Errorf("after the reset: this browser logged in %t, the other %t; want true, false", b.loggedIn(), other.loggedIn())
	}
	after := passwordHash(t, env, mid)
	if after == before {
		t.Fatal("password unchanged")
	}
	m := mails(t, env, "pw@reset.test")
	if last := m[len(m)-1]; last.Subject != "Your Paylink password was changed" || !strings.Contains(last.Body, "with a reset link") {
		t.Errorf("last e-mail: %+v", last)
	}

	// Used, voided by the reset, unknown: the same page, nothing changes.
	for name, token := range map[string]string{"used": first, "other outstanding": second, "unknown": "bm90LWEtdG9rZW4", "empty": ""} {
		wantBody(t, newBrowser(env).get("/dashboard/password/reset?token="+token), http.StatusGone, "This link does not work", "Nothing was changed")
		res := newBrowser(env).form("/dashboard/password/reset", url.Values{"token": {token}, "password": {"yet another password"}})
		wantBody(t, res, http.StatusGone, "This link does not work")
		if res.Header.Get("Set-Cookie") != "" || passwordHash(t, env, mid) != after {
			t.Errorf("%s link: logged in or changed the password", name)
		}
	}

	// Expired: an hour after it was sent.
	late := forgot()
	wantBody(t, newBrowser(env).get("/dashboard/password/reset?token="+late), http.StatusOK, "Choose a new password")
	env.Clock.Advance(time.Hour + time.Second)
	wantBody(t, newBrowser(env).get("/dashboard/password/reset?token="+late), http.StatusGone, "has expired")
	res = newBrowser(env).form("/dashboard/password/reset", url.Values{"token": {late}, "password": {"yet another password"}})
	wantBody(t, res, http.StatusGone, "This link does not work")
	if passwordHash(t, env, mid) != after {
		t.Error("an expired link changed the password")
	}
	if res := newBrowser(env).logIn("pw@reset.test", newPassword); res.Status != http.StatusSeeOther {
		t.Errorf("the reset password does not log in: %d", res.Status)
	}
}

// TestChangePasswordVoidsResetLinks: a link e-mailed before the password
// was changed in the settings no longer works.
func TestChangePasswordVoidsResetLinks(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	b := newBrowser(env)
	b.signUp("pw@void.test")
	wantBody(t, newBrowser(env).form("/dashboard/password/forgot", url.Values{"email": {"pw@void.test"}}), http.StatusOK)
	token := resetToken(t, mails(t, env, "pw@void.test")[0])
	res := b.form("/dashboard/password/reset", url.Values{"token": {token}, "password": {"short"}})
	wantBody(t, res, http.StatusBadRequest)
	if res := b.form("/dashboard/settings/password", url.Values{"current_password": {testPassword}, "password": {newPassword}}); res.Status != http.StatusSeeOther {
		t.Fatal(res.Status)
	}
	wantBody(t, newBrowser(env).get("/dashboard/password/reset?token="+token), http.StatusGone, "This link does not work")
}
