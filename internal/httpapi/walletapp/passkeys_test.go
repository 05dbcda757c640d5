package walletapp_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/passkey/passkeytest"
	"github.com/paylink/paylink/internal/wire"
)

// passkeyLogin runs a passkey log-in for s and returns the finish answer
// and the body it sent.
func passkeyLogin(t *testing.T, s *apitest.Shopper, auth *passkeytest.Authenticator) (apitest.Response, []byte) {
	t.Helper()
	opts := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/login/begin"})
	if opts.Status != 200 {
		t.Fatalf("login/begin: %d %s", opts.Status, opts.Body)
	}
	assertion, err := auth.Get(opts.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"credential": json.RawMessage(assertion)})
	return s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/login/finish", Body: string(body)}), body
}

func TestPasskeyRegisterThenLogInWithoutPassword(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("passkey@example.test")
	auth := passkeytest.New(apitest.Origin)
	opts := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/register/begin"})
	var creation struct {
		PublicKey struct {
			RP                     struct{ ID string }
			AuthenticatorSelection struct {
				ResidentKey      string `json:"residentKey"`
				UserVerification string `json:"userVerification"`
			} `json:"authenticatorSelection"`
		} `json:"publicKey"`
	}
	opts.Decode(t, &creation)
	if creation.PublicKey.RP.ID != "paylink.test" || creation.PublicKey.AuthenticatorSelection.ResidentKey != "required" ||
		creation.PublicKey.AuthenticatorSelection.UserVerification != "required" {
		t.Errorf("creation options = %s; want rp paylink.test, resident key and user verification required", opts.Body)
	}
	p := apitest.RegisterPasskey(t, s, auth)
	if !strings.HasPrefix(p.ID, "pk_") || p.Name != "Laptop" {
		t.Errorf("passkey = %+v", p)
	}
	var me userAnswer
	s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}).Decode(t, &me)
	if !me.User.HasPasskey {
		t.Error("has_passkey = false after registering one")
	}
	var list wire.List[wire.Passkey]
	s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/passkeys"}).Decode(t, &list)
	if len(list.Data) != 1 || list.Data[0].ID != p.ID || list.Data[0].LastUsedAt != nil {
		t.Errorf("passkeys = %+v", list)
	}
	// A page like every list: limit and starting_after are checked.
	s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/passkeys?limit=1&starting_after=" + p.ID}).Decode(t, &list)
	if len(list.Data) != 0 || list.HasMore {
		t.Errorf("passkeys after the only one = %+v", list)
	}
	apitest.WantError(t, s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/passkeys?limit=0"}), 400, "limit_invalid")
	apitest.WantError(t, s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/passkeys?starting_after=garbage"}), 400,
		"starting_after_invalid")
	if res := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/logout"}); res.Status != 200 {
		t.Fatalf("log out: %d", res.Status)
	}
	apitest.WantError(t, s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}), 401, "login_required")

	res, sent := passkeyLogin(t, s, auth)
	if res.Status != 200 {
		t.Fatalf("passkey log-in: %d %s", res.Status, res.Body)
	}
	var out userAnswer
	res.Decode(t, &out)
	if out.User.Email != "passkey@example.test" || !out.User.HasPasskey {
		t.Errorf("logged in as %+v", out.User)
	}
	if me := s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}); me.Status != 200 {
		t.Fatalf("GET /me after passkey log-in: %d", me.Status)
	}
	if n := e.Count("SELECT count(*) FROM user_sessions WHERE method = 'passkey' AND revoked_at IS NULL"); n != 1 {
		t.Errorf("live passkey sessions = %d, want 1", n)
	}
	if n := e.Count("SELECT count(*) FROM passkeys WHERE sign_count = 1 AND last_used_at IS NOT NULL"); n != 1 {
		t.Errorf("passkey counter/last use not recorded")
	}

	// The same assertion posted again is refused: its challenge is spent.
	other := e.NewShopper()
	apitest.WantError(t, other.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/login/finish", Body: string(sent)}), 400, "passkey_challenge_invalid")
	apitest.WantError(t, other.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}), 401, "login_required")
}

func TestPasskeyLoginRefusals(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("refuse@example.test")
	auth := passkeytest.New(apitest.Origin)
	apitest.RegisterPasskey(t, s, auth)
	s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/logout"})

	tryWith := func(answer func(opts []byte) ([]byte, error)) apitest.Response {
		t.Helper()
		opts := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/login/begin"})
		a, err := answer(opts.Body)
		if err != nil {
			t.Fatal(err)
		}
		return s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/login/finish", Body: map[string]any{"credential": json.RawMessage(a)}})
	}
	// Registration left the counter at 0; a first log-in moves it to 1.
	if res, _ := passkeyLogin(t, s, auth); res.Status != 200 {
		t.Fatalf("log in: %d %s", res.Status, res.Body)
	}
	s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/logout"})
	// A cloned authenticator repeats an old counter value.
	res := tryWith(func(o []byte) ([]byte, error) { return auth.AssertWithCounter(o, 1) })
	apitest.WantError(t, res, 401, "passkey_sign_count_invalid")
	// Without user verification.
	auth.UserVerified = false
	apitest.WantError(t, tryWith(auth.Get), 401, "passkey_invalid")
	auth.UserVerified = true
	// From another site's page.
	phish := *auth
	phish.Origin = "https://paylink.test.evil.example"
	apitest.WantError(t, tryWith(phish.Get), 401, "passkey_invalid")
	// A tampered signature.
	res = tryWith(func(o []byte) ([]byte, error) {
		a, err := auth.Get(o)
		var m map[string]any
		_ = json.Unmarshal(a, &m)
		m["response"].(map[string]any)["authenticatorData"] = strings.Repeat("A", 50)
		b, _ := json.Marshal(m)
		return b, err
	})
	apitest.WantError(t, res, 401, "passkey_invalid")
	apitest.WantError(t, s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}), 401, "login_required")
	apitest.WantError(t, s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/login/finish", Body: `{"credential":{"id":"x"}}`}), 401, "passkey_invalid")
}

func TestPasskeyRegistrationRefusals(t *testing.T) {
	t.Parallel()
	clock := &apitest.Clock{}
	e := apitest.New(t, func(d *httpapi.Deps) {
		pk, err := passkey.New(passkey.Config{RPID: "paylink.test", RPName: "Paylink", Origins: []string{apitest.Origin},
			Timeout: 2 * time.Minute}, clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		d.Passkeys = pk
	})
	a := e.WalletUser("a@example.test")
	b := e.WalletUser("b@example.test")
	auth := passkeytest.New(apitest.Origin)
	finish := func(s *apitest.Shopper, cred []byte) apitest.Response {
		return s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/register/finish", Body: map[string]any{"credential": json.RawMessage(cred)}})
	}
	// A's challenge cannot register a passkey for B.
	opts := a.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/register/begin"})
	cred, _ := auth.Create(opts.Body)
	apitest.WantError(t, finish(b, cred), 400, "passkey_challenge_invalid")
	// Without user verification.
	auth.UserVerified = false
	opts = a.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/register/begin"})
	cred, _ = auth.Create(opts.Body)
	apitest.WantError(t, finish(a, cred), 400, "passkey_registration_invalid")
	auth.UserVerified = true
	// After the challenge expired.
	opts = a.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/register/begin"})
	cred, _ = auth.Create(opts.Body)
	clock.Advance(2*time.Minute + time.Second)
	apitest.WantError(t, finish(a, cred), 400, "passkey_challenge_invalid")
	// Not logged in.
	apitest.WantError(t, e.NewShopper().Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/register/begin"}), 401, "login_required")
	if n := e.Count("SELECT count(*) FROM passkeys"); n != 0 {
		t.Errorf("passkeys = %d after only refused registrations", n)
	}
}
