package walletapp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/passkey/passkeytest"
	"github.com/paylink/paylink/internal/wire"
)

// stepUpAssertion answers a step-up confirmation for action (add_passkey, or
// remove_passkey of passkeyID) with auth and returns the assertion.
func stepUpAssertion(t *testing.T, s *apitest.Shopper, auth *passkeytest.Authenticator, action, passkeyID string) json.RawMessage {
	t.Helper()
	body := map[string]any{"action": action}
	if passkeyID != "" {
		body["passkey"] = passkeyID
	}
	opts := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/confirm/begin", Body: body})
	if opts.Status != 200 {
		t.Fatalf("confirm/begin %s: %d %s", action, opts.Status, opts.Body)
	}
	a, err := auth.Get(opts.Body)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// registerWith runs register/begin, makes a credential with auth and
// sends register/finish with extra fields (a step-up assertion).
func registerWith(t *testing.T, s *apitest.Shopper, auth *passkeytest.Authenticator, extra map[string]any) apitest.Response {
	t.Helper()
	opts := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/register/begin"})
	if opts.Status != 200 {
		t.Fatalf("register/begin: %d %s", opts.Status, opts.Body)
	}
	cred, err := auth.Create(opts.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"name": "Second", "credential": json.RawMessage(cred)}
	for k, v := range extra {
		body[k] = v
	}
	return s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/register/finish", Body: body})
}

// TestPasskeyStepUpGuardsAddingAndRemovingPasskeys (security review,
// finding 1): someone who has only the password of a user with a passkey
// cannot add a passkey of their own (and then confirm transfers with it),
// nor remove the user's; the user can, after confirming with an existing
// passkey or within five minutes of a passkey log-in. Every added or
// removed passkey is e-mailed and notified in the app.
func TestPasskeyStepUpGuardsAddingAndRemovingPasskeys(t *testing.T) {
	t.Parallel()
	var clock *apitest.Clock
	e := apitest.New(t, func(d *httpapi.Deps) {
		pk, err := passkey.New(passkey.Config{RPID: "paylink.test", RPName: "Paylink", Origins: []string{apitest.Origin},
			Timeout: 2 * time.Minute}, d.Now)
		if err != nil {
			t.Fatal(err)
		}
		d.Passkeys = pk
	})
	clock = e.Clock
	e.WalletUser("friend@example.test")
	victim := e.WalletUser("victim@example.test")
	victim.TopUp(5000, "USD")
	phone := passkeytest.New(apitest.Origin)
	first := apitest.RegisterPasskey(t, victim, phone) // the first passkey needs no step-up

	// The attack: log in with the password alone, register a passkey of
	// one's own, confirm a transfer with it.
	attacker := e.NewShopper()
	attacker.Login("victim@example.test")
	own := passkeytest.New(apitest.Origin)
	res := registerWith(t, attacker, own, nil)
	apitest.WantError(t, res, 403, "passkey_step_up_required")
	if opts := attacker.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/confirm/begin",
		Body: map[string]any{"action": "transfer", "receiver_email": "friend@example.test", "amount": 5000, "currency": "USD"}}); opts.Status == 200 {
		if a, err := own.Get(opts.Body); err == nil {
			apitest.WantError(t, attacker.Transfer("friend@example.test", 5000, "USD", map[string]any{"passkey_assertion": json.RawMessage(a)}),
				403, "passkey_step_up_required") // unreachable: own has no credential the options allow
		}
	}
	apitest.WantError(t, attacker.Transfer("friend@example.test", 5000, "USD", nil), 403, "passkey_confirmation_required")
	// A step-up answered by an authenticator the user never registered.
	if opts := attacker.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/passkeys/confirm/begin", Body: map[string]any{"action": "add_passkey"}}); opts.Status == 200 {
		if _, err := own.Get(opts.Body); err == nil {
			t.Fatal("an unregistered authenticator answered a step-up")
		}
	}
	apitest.WantError(t, attacker.Do(apitest.Req{Method: "DELETE", Path: "/v1/wallet/passkeys/" + first.ID, Body: map[string]any{}}), 403, "passkey_step_up_required")
	if n := e.Count("SELECT count(*) FROM passkeys"); n != 1 {
		t.Fatalf("passkeys = %d after the attack; want the user's one", n)
	}
	if b := victim.Balances(); b["USD"] != 5000 {
		t.Fatalf("balance after the attack = %v", b)
	}

	// The user adds a second passkey, confirming with the first (from a
	// password session). The confirmation is single use and bound to adding.
	laptop := passkeytest.New(apitest.Origin)
	assertion := stepUpAssertion(t, victim, phone, "add_passkey", "")
	res = registerWith(t, victim, laptop, map[string]any{"passkey_assertion": assertion})
	if res.Status != http.StatusCreated {
		t.Fatalf("adding a second passkey with a step-up: %d %s", res.Status, res.Body)
	}
	var second wire.Passkey
	res.Decode(t, &second)
	apitest.WantError(t, registerWith(t, victim, passkeytest.New(apitest.Origin), map[string]any{"passkey_assertion": assertion}), 400, "passkey_challenge_invalid")
	apitest.WantError(t, victim.Do(apitest.Req{Method: "DELETE", Path: "/v1/wallet/passkeys/" + second.ID,
		Body: map[string]any{"passkey_assertion": stepUpAssertion(t, victim, phone, "add_passkey", "")}}), 403, "passkey_confirmation_mismatch")
	apitest.WantError(t, victim.Do(apitest.Req{Method: "DELETE", Path: "/v1/wallet/passkeys/" + second.ID,
		Body: map[string]any{"passkey_assertion": stepUpAssertion(t, victim, phone, "remove_passkey", first.ID)}}), 403, "passkey_confirmation_mismatch")

	// Renaming needs no step-up.
	res = victim.Do(apitest.Req{Method: "PATCH", Path: "/v1/wallet/passkeys/" + second.ID, Body: map[string]any{"name": "Work laptop"}})
	var renamed wire.Passkey
	if res.Decode(t, &renamed); res.Status != 200 || renamed.Name != "Work laptop" || renamed.ID != second.ID {
		t.Fatalf("rename: %d %s", res.Status, res.Body)
	}
	apitest.WantError(t, victim.Do(apitest.Req{Method: "PATCH", Path: "/v1/wallet/passkeys/" + second.ID, Body: map[string]any{"name": ""}}), 400, "passkey_name_invalid")
	apitest.WantError(t, attacker.Do(apitest.Req{Method: "PATCH", Path: "/v1/wallet/passkeys/pk_01jd0000000000000000000000", Body: map[string]any{"name": "x"}}), 404, "passkey_not_found")

	// A passkey log-in lets the session remove one without confirming again,
	// for five minutes.
	fresh := e.NewShopper()
	if res, _ := passkeyLogin(t, fresh, laptop); res.Status != 200 {
		t.Fatalf("passkey log-in: %d %s", res.Status, res.Body)
	}
	res = fresh.Do(apitest.Req{Method: "DELETE", Path: "/v1/wallet/passkeys/" + second.ID, Body: map[string]any{}})
	var deleted wire.Deleted
	if res.Decode(t, &deleted); res.Status != 200 || !deleted.Deleted || deleted.ID != second.ID {
		t.Fatalf("delete after a passkey log-in: %d %s", res.Status, res.Body)
	}
	apitest.WantError(t, fresh.Do(apitest.Req{Method: "DELETE", Path: "/v1/wallet/passkeys/" + second.ID, Body: map[string]any{}}), 404, "passkey_not_found")
	clock.Advance(passkey.StepUpWindow + time.Second)
	apitest.WantError(t, registerWith(t, fresh, passkeytest.New(apitest.Origin), nil), 403, "passkey_step_up_required")

	// Every change reached the user in the app and by e-mail.
	var types []string
	for _, n := range victim.Notifications("?limit=100").Data {
		if strings.HasPrefix(n.Type, "passkey.") {
			types = append(types, n.Type+": "+n.Message)
		}
	}
	if len(types) != 3 || !strings.HasPrefix(types[0], "passkey.removed") || !strings.Contains(types[0], "Work laptop") ||
		!strings.HasPrefix(types[1], "passkey.added") || !strings.HasPrefix(types[2], "passkey.added") {
		t.Fatalf("passkey notifications = %q; want the two added and the one removed", types)
	}
	if n := e.Count("SELECT count(*) FROM emails WHERE to_addr = 'victim@example.test' AND subject LIKE '%passkey%'"); n != 3 {
		t.Fatalf("passkey e-mails to the user = %d, want 3", n)
	}
	// They advise only what a wallet user can do: there is no password
	// change to point at.
	if n := e.Count("SELECT count(*) FROM emails WHERE to_addr = 'victim@example.test' AND body LIKE '%remove any passkey you do not recognise under Passkeys.%' AND body NOT LIKE '%change your password%'"); n != 3 {
		t.Fatalf("passkey e-mails with the advice a user can follow = %d, want 3", n)
	}
}
