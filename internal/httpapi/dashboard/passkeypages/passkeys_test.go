package passkeypages_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/passkey/passkeytest"
)

// passkeysOnTheTestClock makes the passkeys' step-up window follow the
// test's clock.
func passkeysOnTheTestClock(t *testing.T) func(*httpapi.Deps) {
	return func(d *httpapi.Deps) {
		pk, err := passkey.New(passkey.Config{RPID: "paylink.test", RPName: "Paylink", Origins: []string{apitest.Origin},
			Timeout: 2 * time.Minute}, d.Now)
		if err != nil {
			t.Fatal(err)
		}
		d.Passkeys = pk
	}
}

// Adding a passkey needs the password again (or a passkey): a session
// alone is refused before the authenticator is asked, a wrong password is
// a field error and counts as a failed log-in; then the passkey is listed
// with its name, and only its public key is stored.
func TestRegistrationNeedsStepUp(t *testing.T) {
	env := apitest.New(t)
	b := newBrowser(env)
	b.signUp("steps@shop.test")
	auth := passkeytest.New(apitest.Origin)

	res := b.json("/dashboard/settings/passkeys/register/begin", map[string]any{})
	apitest.WantError(t, res, http.StatusForbidden, "passkey_step_up_required")
	res = b.json("/dashboard/settings/passkeys/register/begin", map[string]any{"password": "not my password"})
	apitest.WantError(t, res, http.StatusUnauthorized, "invalid_credentials")
	wantBody(t, res, `"param":"password"`)
	if n := env.Count(`SELECT attempts FROM auth_attempts WHERE subject = 'merchant:steps@shop.test'`); n != 1 {
		t.Fatalf("failed step-ups counted: %d, want 1", n)
	}
	if n := env.Count(`SELECT count(*) FROM merchant_webauthn_challenges`); n != 0 {
		t.Fatalf("%d challenges issued without a step-up", n)
	}

	b.register(auth, "Work laptop")
	page := b.get("/dashboard/settings/passkeys")
	wantBody(t, page, "Work laptop", "not used yet", `<label for="passkey-name">`, `<label for="current-password">`)
	if n := env.Count(`SELECT count(*) FROM merchant_passkeys WHERE name = 'Work laptop' AND credential ? 'publicKey'
		AND NOT credential::text ILIKE '%private%'`); n != 1 {
		t.Fatalf("stored passkeys with a public key and nothing private: %d", n)
	}
	if n := env.Count(`SELECT count(*) FROM passkeys`); n != 0 {
		t.Fatal("a merchant's passkey landed among wallet users'")
	}
	if n := env.Count(`SELECT count(*) FROM emails WHERE to_addr = 'steps@shop.test' AND subject LIKE '%passkey was added%'`); n != 1 {
		t.Fatalf("e-mails about the new passkey: %d, want 1", n)
	}

	// A second one: the session alone still cannot; a passkey confirms.
	res = b.json("/dashboard/settings/passkeys/register/begin", map[string]any{})
	apitest.WantError(t, res, http.StatusForbidden, "passkey_step_up_required")
	a := b.assert(auth, "/dashboard/settings/passkeys/stepup/begin", map[string]any{"action": "add_passkey"})
	key := passkeytest.New(apitest.Origin)
	b.finish(key, b.json("/dashboard/settings/passkeys/register/begin", map[string]any{"passkey_assertion": a}), "Security key")
	wantBody(t, b.get("/dashboard/settings/passkeys"), "Work laptop", "Security key")
}

// Signing in with a passkey starts the same session as a password: the
// cookie, listed under sessions with its method, revocable; a passkey
// session may remove a passkey within minutes of logging in without
// another step-up, later it needs one.
func TestPasskeyLogIn(t *testing.T) {
	env := apitest.New(t, passkeysOnTheTestClock(t))
	owner := newBrowser(env)
	owner.signUp("keys@shop.test")
	auth := passkeytest.New(apitest.Origin)
	first := owner.register(auth, "Phone")
	second := owner.register(passkeytest.New(apitest.Origin), "Spare key")

	b := newBrowser(env)
	res := b.passkeyLogIn(auth)
	if res.Status != http.StatusOK {
		t.Fatalf("passkey log-in: %d %s", res.Status, res.Body)
	}
	wantBody(t, res, `"redirect":"/dashboard/payments"`)
	cookie := res.Header.Get("Set-Cookie")
	for _, want := range []string{"paylink_dashboard=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	if p := b.get("/dashboard"); p.Status != http.StatusOK {
		t.Fatalf("home after a passkey log-in: %d", p.Status)
	}
	wantBody(t, b.get("/dashboard/settings"), "Logged in with passkey", "Logged in with password")
	if n := env.Count(`SELECT count(*) FROM merchant_passkeys WHERE id = $1 AND last_used_at IS NOT NULL`, first); n != 1 {
		t.Fatal("last_used_at not recorded")
	}

	// Fresh from a passkey log-in, removing needs nothing more.
	if p := b.form("/dashboard/settings/passkeys/"+second+"/remove", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("remove after a passkey log-in: %d %s", p.Status, p.Body)
	}
	// Later it does; the password does it.
	env.Clock.Advance(6 * time.Minute)
	if p := b.get("/dashboard"); p.Status != http.StatusOK {
		t.Fatalf("session idle too soon: %d", p.Status)
	}
	p := b.form("/dashboard/settings/passkeys/"+first+"/remove", url.Values{})
	if p.Status != http.StatusForbidden {
		t.Fatalf("remove without a step-up: %d", p.Status)
	}
	wantBody(t, p, "Confirm it&#39;s you first")
	p = b.form("/dashboard/settings/passkeys/"+first+"/remove", url.Values{"password": {"wrong one"}})
	if p.Status != http.StatusUnauthorized {
		t.Fatalf("remove with a wrong password: %d", p.Status)
	}
	wantBody(t, p, `id="current-password-error"`, "That is not your password")
	if p := b.form("/dashboard/settings/passkeys/"+first+"/remove", url.Values{"password": {testPassword}}); p.Status != http.StatusSeeOther {
		t.Fatalf("remove with the password: %d %s", p.Status, p.Body)
	}
	if n := env.Count(`SELECT count(*) FROM merchant_passkeys`); n != 0 {
		t.Fatalf("%d passkeys left", n)
	}
	if n := env.Count(`SELECT count(*) FROM emails WHERE to_addr = 'keys@shop.test' AND subject LIKE '%passkey was removed%'`); n != 2 {
		t.Fatalf("e-mails about removed passkeys: %d, want 2", n)
	}

	// The session is revocable like any other.
	if p := b.form("/dashboard/logout", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("log out: %d", p.Status)
	}
	if p := b.get("/dashboard"); p.Status != http.StatusSeeOther {
		t.Fatalf("after log-out: %d", p.Status)
	}
	if n := env.Count(`SELECT count(*) FROM merchant_sessions WHERE method = 'passkey' AND revoked_at IS NOT NULL`); n != 1 {
		t.Fatalf("revoked passkey sessions: %d", n)
	}
}

// A merchant's session reaches only its own passkeys, and a passkey logs
// in only the merchant it belongs to, even when its answer names another.
func TestMerchantsAreIsolated(t *testing.T) {
	env := apitest.New(t)
	a, b := newBrowser(env), newBrowser(env)
	a.signUp("a@shop.test")
	bID := b.signUp("b@shop.test")
	authA, authB := passkeytest.New(apitest.Origin), passkeytest.New(apitest.Origin)
	aKey := a.register(authA, "A's laptop")
	b.register(authB, "B's laptop")

	page := b.get("/dashboard/settings/passkeys")
	if strings.Contains(string(page.Body), "A&#39;s laptop") {
		t.Fatal("B sees A's passkey")
	}
	if p := b.get("/dashboard/settings/passkeys/" + aKey + "/remove"); p.Status != http.StatusNotFound {
		t.Fatalf("B opens A's passkey: %d", p.Status)
	}
	if p := b.form("/dashboard/settings/passkeys/"+aKey+"/rename", url.Values{"name": {"mine"}}); p.Status != http.StatusNotFound {
		t.Fatalf("B renames A's passkey: %d", p.Status)
	}
	if p := b.form("/dashboard/settings/passkeys/"+aKey+"/remove", url.Values{"password": {testPassword}}); p.Status != http.StatusNotFound {
		t.Fatalf("B removes A's passkey: %d", p.Status)
	}
	res := b.json("/dashboard/settings/passkeys/stepup/begin", map[string]any{"action": "remove_passkey", "passkey": aKey})
	apitest.WantError(t, res, http.StatusNotFound, "passkey_not_found")

	// A's passkey claiming to be B's user handle logs nobody in.
	authA.Credentials()[0].UserHandle = []byte(bID)
	res = newBrowser(env).passkeyLogIn(authA)
	apitest.WantError(t, res, http.StatusUnauthorized, "passkey_invalid")
	if res.Header.Get("Set-Cookie") != "" {
		t.Fatal("a refused log-in set a cookie")
	}
	if n := env.Count(`SELECT count(*) FROM merchant_sessions WHERE method = 'passkey'`); n != 0 {
		t.Fatalf("%d passkey sessions", n)
	}
}

// A wallet user's passkey cannot log in to the dashboard, nor a
// merchant's to the wallet, nor a log-in challenge of one serve the other.
func TestWalletAndDashboardPasskeysNeverCross(t *testing.T) {
	env := apitest.New(t)
	shopper := env.WalletUser("both@shop.test")
	walletAuth := passkeytest.New(apitest.Origin)
	apitest.RegisterPasskey(t, shopper, walletAuth)

	m := newBrowser(env)
	m.signUp("both@shop.test") // the same person, the same e-mail
	merchantAuth := passkeytest.New(apitest.Origin)
	m.register(merchantAuth, "Dashboard key")

	res := newBrowser(env).passkeyLogIn(walletAuth)
	apitest.WantError(t, res, http.StatusUnauthorized, "passkey_invalid")

	wallet := env.NewShopper()
	opts := wallet.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/login/begin"})
	cred, err := merchantAuth.Get(opts.Body)
	if err != nil {
		t.Fatal(err)
	}
	res = wallet.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/login/finish", Body: map[string]any{"credential": json.RawMessage(cred)}})
	if res.Status != http.StatusUnauthorized {
		t.Fatalf("a merchant's passkey at the wallet: %d %s", res.Status, res.Body)
	}

	// The dashboard's challenge, answered by the dashboard's passkey, is
	// not one the wallet issued, and the other way round.
	d := newBrowser(env)
	a := d.assert(merchantAuth, "/dashboard/login/passkey/begin", map[string]any{})
	res = wallet.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/login/finish", Body: map[string]any{"credential": a}})
	if res.Status == http.StatusOK {
		t.Fatal("the wallet accepted a dashboard log-in")
	}
	opts = wallet.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/login/begin"})
	cred, err = walletAuth.Get(opts.Body)
	if err != nil {
		t.Fatal(err)
	}
	res = d.json("/dashboard/login/passkey/finish", map[string]any{"credential": json.RawMessage(cred)})
	apitest.WantError(t, res, http.StatusUnauthorized, "passkey_invalid")
	if n := env.Count(`SELECT count(*) FROM merchant_sessions WHERE method = 'passkey'`) +
		env.Count(`SELECT count(*) FROM user_sessions WHERE method = 'passkey'`); n != 0 {
		t.Fatalf("%d passkey sessions across audiences", n)
	}
}

// Failed passkey log-ins count in the merchant's lock-out, as wrong
// passwords do; once locked, neither a password nor a passkey gets in.
func TestPasskeyFailuresLockOut(t *testing.T) {
	env := apitest.New(t)
	owner := newBrowser(env)
	owner.signUp("guarded@shop.test")
	auth := passkeytest.New(apitest.Origin)
	owner.register(auth, "Phone")

	auth.UserVerified = false // an answer the server refuses
	for i := 0; i < 10; i++ {
		res := newBrowser(env).passkeyLogIn(auth)
		apitest.WantError(t, res, http.StatusUnauthorized, "passkey_invalid")
	}
	auth.UserVerified = true
	res := newBrowser(env).passkeyLogIn(auth)
	apitest.WantError(t, res, http.StatusTooManyRequests, "account_locked")
	p := newBrowser(env).form("/dashboard/login", url.Values{"email": {"guarded@shop.test"}, "password": {testPassword}})
	if p.Status != http.StatusTooManyRequests {
		t.Fatalf("password log-in while locked: %d", p.Status)
	}
	env.Clock.Advance(16 * time.Minute)
	if res := newBrowser(env).passkeyLogIn(auth); res.Status != http.StatusOK {
		t.Fatalf("after the lock: %d %s", res.Status, res.Body)
	}
}

// Every passkey request from another site's page is refused before it
// does anything.
func TestCrossSitePasskeyRequestsAreRefused(t *testing.T) {
	env := apitest.New(t)
	b := newBrowser(env)
	b.signUp("csrf@shop.test")
	key := b.register(passkeytest.New(apitest.Origin), "Phone")
	b.origin = "https://evil.test"
	for _, path := range []string{"/dashboard/login/passkey/begin", "/dashboard/login/passkey/finish",
		"/dashboard/settings/passkeys/register/begin", "/dashboard/settings/passkeys/register/finish",
		"/dashboard/settings/passkeys/stepup/begin"} {
		if res := b.json(path, map[string]any{"password": testPassword}); res.Status != http.StatusForbidden {
			t.Errorf("%s from another site: %d %s", path, res.Status, res.Body)
		}
	}
	for _, path := range []string{"/" + key + "/rename", "/" + key + "/remove"} {
		if p := b.form("/dashboard/settings/passkeys"+path, url.Values{"name": {"x"}, "password": {testPassword}}); p.Status != http.StatusForbidden {
			t.Errorf("%s from another site: %d", path, p.Status)
		}
	}
	// A form posted as JSON is refused too (no simple cross-site request).
	b.origin = apitest.Origin
	res := b.send("POST", "/dashboard/settings/passkeys/register/begin", "text/plain", strings.NewReader(`{"password":"`+testPassword+`"}`))
	if res.Status != http.StatusForbidden && res.Status != http.StatusUnsupportedMediaType && res.Status != http.StatusBadRequest {
		t.Errorf("text/plain begin: %d", res.Status)
	}
	if n := env.Count(`SELECT count(*) FROM merchant_passkeys WHERE name = 'Phone'`); n != 1 {
		t.Fatal("a cross-site request changed the passkeys")
	}
	if n := env.Count(`SELECT count(*) FROM merchant_webauthn_challenges WHERE purpose = 'register'`); n != 0 {
		t.Fatalf("%d registration challenges issued cross-site", n)
	}
}

// Renaming shows a refused name next to its field.
func TestRename(t *testing.T) {
	env := apitest.New(t)
	b := newBrowser(env)
	b.signUp("names@shop.test")
	key := b.register(passkeytest.New(apitest.Origin), "Phone")
	p := b.form("/dashboard/settings/passkeys/"+key+"/rename", url.Values{"name": {"  "}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("empty name: %d", p.Status)
	}
	wantBody(t, p, `<label for="name-`+key+`">`, "A passkey name is 1 to 100 characters")
	if p := b.form("/dashboard/settings/passkeys/"+key+"/rename", url.Values{"name": {"Work phone"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("rename: %d", p.Status)
	}
	wantBody(t, b.get("/dashboard/settings/passkeys?renamed=1"), "Work phone", "Passkey renamed.")
}
