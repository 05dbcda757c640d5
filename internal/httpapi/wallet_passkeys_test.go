package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/passkey/passkeytest"
	"github.com/paylink/paylink/internal/wire"
)

// registerPasskey registers a passkey of auth for the logged-in s.
func registerPasskey(t *testing.T, s *shopper, auth *passkeytest.Authenticator) wire.Passkey {
	t.Helper()
	opts := s.do(req{Method: "POST", Path: "/v1/wallet/passkeys/register/begin"})
	if opts.Status != 200 {
		t.Fatalf("register/begin: %d %s", opts.Status, opts.Body)
	}
	cred, err := auth.Create(opts.Body)
	if err != nil {
		t.Fatal(err)
	}
	res := s.do(req{Method: "POST", Path: "/v1/wallet/passkeys/register/finish",
		Body: map[string]any{"name": "Laptop", "credential": json.RawMessage(cred)}})
	if res.Status != http.StatusCreated {
		t.Fatalf("register/finish: %d %s", res.Status, res.Body)
	}
	var p wire.Passkey
	res.decode(t, &p)
	return p
}

// passkeyLogin runs a passkey log-in for s and returns the finish answer
// and the body it sent.
func passkeyLogin(t *testing.T, s *shopper, auth *passkeytest.Authenticator) (response, []byte) {
	t.Helper()
	opts := s.do(req{Method: "POST", Path: "/v1/wallet/passkeys/login/begin"})
	if opts.Status != 200 {
		t.Fatalf("login/begin: %d %s", opts.Status, opts.Body)
	}
	assertion, err := auth.Get(opts.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"credential": json.RawMessage(assertion)})
	return s.do(req{Method: "POST", Path: "/v1/wallet/passkeys/login/finish", Body: string(body)}), body
}

func TestPasskeyRegisterThenLogInWithoutPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.walletUser("passkey@example.test")
	auth := passkeytest.New(testOrigin)
	opts := s.do(req{Method: "POST", Path: "/v1/wallet/passkeys/register/begin"})
	var creation struct {
		PublicKey struct {
			RP                     struct{ ID string }
			AuthenticatorSelection struct {
				ResidentKey      string `json:"residentKey"`
				UserVerification string `json:"userVerification"`
			} `json:"authenticatorSelection"`
		} `json:"publicKey"`
	}
	opts.decode(t, &creation)
	if creation.PublicKey.RP.ID != "paylink.test" || creation.PublicKey.AuthenticatorSelection.ResidentKey != "required" ||
		creation.PublicKey.AuthenticatorSelection.UserVerification != "required" {
		t.Errorf("creation options = %s; want rp paylink.test, resident key and user verification required", opts.Body)
	}
	p := registerPasskey(t, s, auth)
	if !strings.HasPrefix(p.ID, "pk_") || p.Name != "Laptop" {
		t.Errorf("passkey = %+v", p)
	}
	var me userResponse
	s.do(req{Method: "GET", Path: "/v1/wallet/account"}).decode(t, &me)
	if !me.User.HasPasskey {
		t.Error("has_passkey = false after registering one")
	}
	var list wire.List[wire.Passkey]
	s.do(req{Method: "GET", Path: "/v1/wallet/passkeys"}).decode(t, &list)
	if len(list.Data) != 1 || list.Data[0].ID != p.ID || list.Data[0].LastUsedAt != nil {
		t.Errorf("passkeys = %+v", list)
	}
	if res := s.do(req{Method: "POST", Path: "/v1/wallet/logout"}); res.Status != 200 {
		t.Fatalf("log out: %d", res.Status)
	}
	wantError(t, s.do(req{Method: "GET", Path: "/v1/wallet/account"}), 401, "login_required")

	res, sent := passkeyLogin(t, s, auth)
	if res.Status != 200 {
		t.Fatalf("passkey log-in: %d %s", res.Status, res.Body)
	}
	var out userResponse
	res.decode(t, &out)
	if out.User.Email != "passkey@example.test" || !out.User.HasPasskey {
		t.Errorf("logged in as %+v", out.User)
	}
	if me := s.do(req{Method: "GET", Path: "/v1/wallet/account"}); me.Status != 200 {
		t.Fatalf("GET /me after passkey log-in: %d", me.Status)
	}
	if n := count(t, e, "SELECT count(*) FROM user_sessions WHERE method = 'passkey' AND revoked_at IS NULL"); n != 1 {
		t.Errorf("live passkey sessions = %d, want 1", n)
	}
	if n := count(t, e, "SELECT count(*) FROM passkeys WHERE sign_count = 1 AND last_used_at IS NOT NULL"); n != 1 {
		t.Errorf("passkey counter/last use not recorded")
	}

	// The same assertion posted again is refused: its challenge is spent.
	other := e.newShopper()
	wantError(t, other.do(req{Method: "POST", Path: "/v1/wallet/passkeys/login/finish", Body: string(sent)}), 400, "passkey_challenge_invalid")
	wantError(t, other.do(req{Method: "GET", Path: "/v1/wallet/account"}), 401, "login_required")
}

func TestPasskeyLoginRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.walletUser("refuse@example.test")
	auth := passkeytest.New(testOrigin)
	registerPasskey(t, s, auth)
	s.do(req{Method: "POST", Path: "/v1/wallet/logout"})

	tryWith := func(answer func(opts []byte) ([]byte, error)) response {
		t.Helper()
		opts := s.do(req{Method: "POST", Path: "/v1/wallet/passkeys/login/begin"})
		a, err := answer(opts.Body)
		if err != nil {
			t.Fatal(err)
		}
		return s.do(req{Method: "POST", Path: "/v1/wallet/passkeys/login/finish", Body: map[string]any{"credential": json.RawMessage(a)}})
	}
	// Registration left the counter at 0; a first log-in moves it to 1.
	if res, _ := passkeyLogin(t, s, auth); res.Status != 200 {
		t.Fatalf("log in: %d %s", res.Status, res.Body)
	}
	s.do(req{Method: "POST", Path: "/v1/wallet/logout"})
	// A cloned authenticator repeats an old counter value.
	res := tryWith(func(o []byte) ([]byte, error) { return auth.AssertWithCounter(o, 1) })
	wantError(t, res, 401, "passkey_sign_count_invalid")
	// Without user verification.
	auth.UserVerified = false
	wantError(t, tryWith(auth.Get), 401, "passkey_invalid")
	auth.UserVerified = true
	// From another site's page.
	phish := *auth
	phish.Origin = "https://paylink.test.evil.example"
	wantError(t, tryWith(phish.Get), 401, "passkey_invalid")
	// A tampered signature.
	res = tryWith(func(o []byte) ([]byte, error) {
		a, err := auth.Get(o)
		var m map[string]any
		_ = json.Unmarshal(a, &m)
		m["response"].(map[string]any)["authenticatorData"] = strings.Repeat("A", 50)
		b, _ := json.Marshal(m)
		return b, err
	})
	wantError(t, res, 401, "passkey_invalid")
	wantError(t, s.do(req{Method: "GET", Path: "/v1/wallet/account"}), 401, "login_required")
	wantError(t, s.do(req{Method: "POST", Path: "/v1/wallet/passkeys/login/finish", Body: `{"credential":{"id":"x"}}`}), 401, "passkey_invalid")
}

func TestPasskeyRegistrationRefusals(t *testing.T) {
	t.Parallel()
	clock := &testClock{}
	e := newEnv(t, func(d *Deps) {
		pk, err := passkey.New(passkey.Config{RPID: "paylink.test", RPName: "Paylink", Origins: []string{testOrigin},
			Timeout: 2 * time.Minute}, clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		d.Passkeys = pk
	})
	a := e.walletUser("a@example.test")
	b := e.walletUser("b@example.test")
	auth := passkeytest.New(testOrigin)
	finish := func(s *shopper, cred []byte) response {
		return s.do(req{Method: "POST", Path: "/v1/wallet/passkeys/register/finish", Body: map[string]any{"credential": json.RawMessage(cred)}})
	}
	// A's challenge cannot register a passkey for B.
	opts := a.do(req{Method: "POST", Path: "/v1/wallet/passkeys/register/begin"})
	cred, _ := auth.Create(opts.Body)
	wantError(t, finish(b, cred), 400, "passkey_challenge_invalid")
	// Without user verification.
	auth.UserVerified = false
	opts = a.do(req{Method: "POST", Path: "/v1/wallet/passkeys/register/begin"})
	cred, _ = auth.Create(opts.Body)
	wantError(t, finish(a, cred), 400, "passkey_registration_invalid")
	auth.UserVerified = true
	// After the challenge expired.
	opts = a.do(req{Method: "POST", Path: "/v1/wallet/passkeys/register/begin"})
	cred, _ = auth.Create(opts.Body)
	clock.Advance(2*time.Minute + time.Second)
	wantError(t, finish(a, cred), 400, "passkey_challenge_invalid")
	// Not logged in.
	wantError(t, e.newShopper().do(req{Method: "POST", Path: "/v1/wallet/passkeys/register/begin"}), 401, "login_required")
	if n := count(t, e, "SELECT count(*) FROM passkeys"); n != 0 {
		t.Errorf("passkeys = %d after only refused registrations", n)
	}
}
