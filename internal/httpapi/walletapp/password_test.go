package walletapp_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/passkey/passkeytest"
)

const newWalletPassword = "a new horse battery staple"

// passwordHash is the stored password hash of the user with email.
func passwordHash(t *testing.T, e *apitest.Env, email string) string {
	t.Helper()
	var hash string
	if err := e.DB.Pool.QueryRow(context.Background(), "SELECT password_hash FROM users WHERE email = $1", email).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	return hash
}

// logIn answers a log-in of email with pw from a fresh browser.
func logIn(e *apitest.Env, email, pw string) apitest.Response {
	return e.NewShopper().Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login", Body: map[string]string{"email": email, "password": pw}})
}

// changePassword posts a change of s's password.
func changePassword(s *apitest.Shopper, current, next string, extra map[string]any) apitest.Response {
	body := map[string]any{"current_password": current, "new_password": next}
	for k, v := range extra {
		body[k] = v
	}
	return s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/password", Body: body})
}

// TestWalletChangePassword: a wrong current password, or a new one that
// breaks the sign-up rule, is a clear 400 that changes nothing; the right
// one sets the new password, keeps this session, logs every other
// session out at once (one cached in Redis included), and tells the user
// by e-mail and in the app.
func TestWalletChangePassword(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	const email = "change@example.test"
	s := e.WalletUser(email)
	other := e.NewShopper()
	other.Login(email)
	// Cached in Redis by a first use: revocation must reach the cache.
	if res := other.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}); res.Status != 200 {
		t.Fatalf("other session: %d %s", res.Status, res.Body)
	}
	before := passwordHash(t, e, email)

	apitest.WantError(t, changePassword(s, "not my password", newWalletPassword, nil), 400, "current_password_incorrect")
	apitest.WantError(t, changePassword(s, "", newWalletPassword, nil), 400, "current_password_incorrect")
	res := changePassword(s, apitest.WalletPassword, "short", nil)
	apitest.WantError(t, res, 400, "password_too_short")
	if !strings.Contains(string(res.Body), `"param":"new_password"`) {
		t.Errorf("short new password: %s; want param new_password", res.Body)
	}
	apitest.WantError(t, changePassword(s, apitest.WalletPassword, strings.Repeat("p", 257), nil), 400, "password_too_long")
	apitest.WantError(t, s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/password",
		Body: map[string]any{"current_password": apitest.WalletPassword, "new_password": newWalletPassword, "admin": true}}), 400, "unknown_parameter")
	if passwordHash(t, e, email) != before || e.Count("SELECT count(*) FROM emails WHERE subject = 'Your Paylink password was changed'") != 0 {
		t.Fatal("a refused change changed the password or sent an e-mail")
	}
	if res := other.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}); res.Status != 200 {
		t.Fatalf("other session after refused changes: %d %s", res.Status, res.Body)
	}
	// Without a session, or from another site, nothing is changed.
	apitest.WantError(t, changePassword(e.NewShopper(), apitest.WalletPassword, newWalletPassword, nil), 401, "login_required")
	apitest.WantError(t, s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/password", Header: map[string]string{"Origin": "https://evil.test"},
		Body: map[string]any{"current_password": apitest.WalletPassword, "new_password": newWalletPassword}}), 403, "origin_not_allowed")

	if res := changePassword(s, apitest.WalletPassword, newWalletPassword, nil); res.Status != 200 || !strings.Contains(string(res.Body), `"password_changed":true`) {
		t.Fatalf("change: %d %s", res.Status, res.Body)
	}
	if after := passwordHash(t, e, email); after == before || !strings.HasPrefix(after, "$argon2id$") || strings.Contains(after, newWalletPassword) {
		t.Errorf("stored password = %q; want a new Argon2id hash", after)
	}
	if res := s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}); res.Status != 200 {
		t.Errorf("this session after the change: %d %s; want it kept", res.Status, res.Body)
	}
	apitest.WantError(t, other.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}), 401, "login_required")
	apitest.WantError(t, logIn(e, email, apitest.WalletPassword), 401, "invalid_credentials")
	if res := logIn(e, email, newWalletPassword); res.Status != 200 {
		t.Errorf("log in with the new password: %d %s", res.Status, res.Body)
	}
	if n := e.Count("SELECT count(*) FROM emails WHERE to_addr = $1 AND subject = 'Your Paylink password was changed'", email); n != 1 {
		t.Errorf("password-changed e-mails = %d, want 1", n)
	}
	if n := e.Count("SELECT count(*) FROM wallet_notifications WHERE type = 'password.changed'"); n != 1 {
		t.Errorf("password-changed notifications = %d, want 1", n)
	}
}

// TestWalletChangePasswordCountsTowardTheLockOut: wrong current passwords
// count as failed log-ins of the address, so a stolen session cannot
// guess the password faster than the log-in page could; once locked,
// even the right one is refused (429 account_locked).
func TestWalletChangePasswordCountsTowardTheLockOut(t *testing.T) {
	t.Parallel()
	e := apitest.New(t) // 10 failures per 15 minutes
	const email = "guess@example.test"
	s := e.WalletUser(email)
	for i := range 10 {
		if res := changePassword(s, "guess number "+string(rune('a'+i)), newWalletPassword, nil); res.ErrorCode() != "current_password_incorrect" {
			t.Fatalf("guess %d: %d %s", i+1, res.Status, res.Body)
		}
	}
	apitest.WantError(t, changePassword(s, apitest.WalletPassword, newWalletPassword, nil), 429, "account_locked")
	apitest.WantError(t, logIn(e, email, apitest.WalletPassword), 429, "account_locked")
}

// TestWalletChangePasswordNeedsThePasskey: for a user with a passkey, the
// password alone does not replace the password (403
// passkey_step_up_required, nothing changed); with an assertion bound to
// change_password it does, and one bound to another action does not.
func TestWalletChangePasswordNeedsThePasskey(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	const email = "guarded@example.test"
	s := e.WalletUser(email)
	auth := passkeytest.New(apitest.Origin)
	apitest.RegisterPasskey(t, s, auth)
	before := passwordHash(t, e, email)

	apitest.WantError(t, changePassword(s, apitest.WalletPassword, newWalletPassword, nil), 403, "passkey_step_up_required")
	wrong := stepUpAssertion(t, s, auth, "add_passkey", "")
	apitest.WantError(t, changePassword(s, apitest.WalletPassword, newWalletPassword, map[string]any{"passkey_assertion": wrong}),
		403, "passkey_confirmation_mismatch")
	if passwordHash(t, e, email) != before {
		t.Fatal("the password changed without the passkey")
	}
	right := stepUpAssertion(t, s, auth, "change_password", "")
	if res := changePassword(s, apitest.WalletPassword, newWalletPassword, map[string]any{"passkey_assertion": right}); res.Status != 200 {
		t.Fatalf("change with the passkey: %d %s", res.Status, res.Body)
	}
	if passwordHash(t, e, email) == before {
		t.Error("password unchanged after a confirmed change")
	}
}

var resetLink = regexp.MustCompile(`/wallet/password/reset#token=([A-Za-z0-9_-]+)`)

// lastResetToken is the token of the newest reset e-mail to email.
func lastResetToken(t *testing.T, e *apitest.Env, email string) string {
	t.Helper()
	var (
		id, clear string
		sealed    []byte
	)
	err := e.DB.Pool.QueryRow(context.Background(), `SELECT id, e::text, body_sealed FROM emails e WHERE to_addr = $1 AND subject = 'Reset your Paylink password'
		ORDER BY id DESC LIMIT 1`, email).Scan(&id, &clear, &sealed)
	if err != nil {
		t.Fatal(err)
	}
	if resetLink.MatchString(clear) {
		t.Fatalf("the reset link is in the outbox in the clear: %s", clear)
	}
	// Only the worker's keys open it (notify.QueueSealed).
	content, err := e.Keys.Open(sealed, []byte(id))
	if err != nil {
		t.Fatal(err)
	}
	body := string(content)
	m := resetLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no reset link in %q", body)
	}
	return m[1]
}

func forgot(s *apitest.Shopper, email string) apitest.Response {
	return s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/password/forgot", Body: map[string]string{"email": email}})
}

func reset(s *apitest.Shopper, token, pw string) apitest.Response {
	return s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/password/reset", Body: map[string]string{"token": token, "password": pw}})
}

// TestWalletPasswordReset: asking for a link answers alike for an address
// with and without a wallet (only the first gets an e-mail); the stored
// link holds the token's SHA-256, never the token; the token sets a new
// password once, which ends every session of the user and every other
// outstanding link; a used, replaced, unknown or expired link is refused
// and changes nothing.
func TestWalletPasswordReset(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	const email = "forgetful@example.test"
	s := e.WalletUser(email)
	anon := e.NewShopper()

	known, unknown := forgot(anon, "Forgetful@Example.test"), forgot(anon, "nobody@example.test")
	if known.Status != http.StatusAccepted || unknown.Status != known.Status || string(unknown.Body) != string(known.Body) {
		t.Fatalf("forgot: known %d %s, unknown %d %s; want the same 202", known.Status, known.Body, unknown.Status, unknown.Body)
	}
	apitest.WantError(t, forgot(anon, "not-an-address"), 400, "email_invalid")
	if n := e.Count("SELECT count(*) FROM emails WHERE subject = 'Reset your Paylink password'"); n != 1 {
		t.Fatalf("reset e-mails = %d, want 1 (none for the unknown address)", n)
	}
	first := lastResetToken(t, e, email)
	if res := forgot(anon, email); res.Status != http.StatusAccepted {
		t.Fatalf("second request: %d %s", res.Status, res.Body)
	}
	token := lastResetToken(t, e, email)

	// Only the SHA-256 of each token is stored.
	var stored int
	for _, tok := range []string{first, token} {
		sum := sha256.Sum256([]byte(tok))
		stored += e.Count("SELECT count(*) FROM wallet_password_resets WHERE token_hash = $1", sum[:])
		if n := e.Count(`SELECT count(*) FROM wallet_password_resets r WHERE r::text LIKE '%' || $1 || '%'
			OR encode(r.token_hash, 'escape') LIKE '%' || $1 || '%'`, tok); n != 0 {
			t.Errorf("a reset row holds the token in plaintext")
		}
	}
	if stored != 2 {
		t.Fatalf("rows with the tokens' SHA-256 = %d, want 2", stored)
	}

	before := passwordHash(t, e, email)
	apitest.WantError(t, reset(anon, "no-such-token", newWalletPassword), 400, "reset_token_invalid")
	apitest.WantError(t, reset(anon, "", newWalletPassword), 400, "reset_token_invalid")
	apitest.WantError(t, reset(anon, token, "short"), 400, "password_too_short")
	if passwordHash(t, e, email) != before {
		t.Fatal("a refused reset changed the password")
	}

	browser := e.NewShopper()
	browser.Login(email)
	if res := reset(browser, token, newWalletPassword); res.Status != 200 || !strings.Contains(string(res.Body), `"password_reset":true`) {
		t.Fatalf("reset: %d %s", res.Status, res.Body)
	}
	for _, sess := range []*apitest.Shopper{s, browser} {
		apitest.WantError(t, sess.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}), 401, "login_required")
	}
	apitest.WantError(t, logIn(e, email, apitest.WalletPassword), 401, "invalid_credentials")
	if res := logIn(e, email, newWalletPassword); res.Status != 200 {
		t.Fatalf("log in with the new password: %d %s", res.Status, res.Body)
	}
	if n := e.Count("SELECT count(*) FROM emails WHERE to_addr = $1 AND subject = 'Your Paylink password was changed'", email); n != 1 {
		t.Errorf("password-changed e-mails = %d, want 1", n)
	}

	// Single use; the other link died with it.
	after := passwordHash(t, e, email)
	apitest.WantError(t, reset(anon, token, "yet another password"), 410, "reset_token_used")
	apitest.WantError(t, reset(anon, first, "yet another password"), 410, "reset_token_used")
	if passwordHash(t, e, email) != after {
		t.Fatal("a used link changed the password")
	}

	// A link works for an hour.
	forgot(anon, email)
	late := lastResetToken(t, e, email)
	e.Clock.Advance(time.Hour + time.Second)
	apitest.WantError(t, reset(anon, late, "yet another password"), 410, "reset_token_expired")
	if passwordHash(t, e, email) != after {
		t.Fatal("an expired link changed the password")
	}
	if res := logIn(e, email, newWalletPassword); res.Status != 200 {
		t.Errorf("log in after a refused reset: %d %s", res.Status, res.Body)
	}
}

// TestWalletPasswordResetLimits: asking for links is limited like log-in
// (per client IP and e-mail: 429 past it, for addresses with and without
// a wallet alike), and one user is sent at most three links an hour
// whatever the number of requests, answered alike.
func TestWalletPasswordResetLimits(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, func(d *httpapi.Deps) { d.Limits.Login = limiter.Rate{Period: time.Minute, Limit: 5} })
	const email = "flooded@example.test"
	anon := e.NewShopper() // signs up without logging in: no log-in counted
	if res := anon.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/signup", Body: apitest.SignUpBody(email)}); res.Status != http.StatusCreated {
		t.Fatalf("sign up: %d %s", res.Status, res.Body)
	}
	for i := range 5 {
		for _, addr := range []string{email, "ghost@example.test"} {
			if res := forgot(anon, addr); res.Status != http.StatusAccepted {
				t.Fatalf("request %d for %s: %d %s", i+1, addr, res.Status, res.Body)
			}
		}
	}
	for _, addr := range []string{email, "ghost@example.test"} {
		apitest.WantError(t, forgot(anon, addr), 429, "rate_limited")
	}
	if n := e.Count("SELECT count(*) FROM emails WHERE to_addr = $1 AND subject = 'Reset your Paylink password'", email); n != 3 {
		t.Errorf("reset e-mails = %d after 5 requests, want 3", n)
	}
}

// TestWalletPasswordResetLiftsTheLockOut: an address locked by failed
// log-ins (someone guessing, or the user) is let in at once with the
// password set from an e-mailed link, which proves the address theirs.
func TestWalletPasswordResetLiftsTheLockOut(t *testing.T) {
	t.Parallel()
	e := apitest.New(t) // 10 failures per 15 minutes
	const email = "locked@example.test"
	e.WalletUser(email)
	for range 10 {
		logIn(e, email, "a wrong guess")
	}
	apitest.WantError(t, logIn(e, email, apitest.WalletPassword), 429, "account_locked")
	anon := e.NewShopper()
	if res := forgot(anon, email); res.Status != http.StatusAccepted {
		t.Fatalf("forgot: %d %s", res.Status, res.Body)
	}
	if res := reset(anon, lastResetToken(t, e, email), newWalletPassword); res.Status != 200 {
		t.Fatalf("reset: %d %s", res.Status, res.Body)
	}
	if res := logIn(e, email, newWalletPassword); res.Status != 200 {
		t.Errorf("log in after the reset: %d %s; want the lock lifted", res.Status, res.Body)
	}
}
