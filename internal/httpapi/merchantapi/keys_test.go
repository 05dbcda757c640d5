package merchantapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/httpapi/merchantapi"
	"github.com/paylink/paylink/internal/wire"
)

// grantable are the scopes a key can be given (API.md Parts 2 and 3).
var grantable = []string{"payment_links:read", "payment_links:write", "payment_forms:read", "payment_forms:write",
	"payments:read", "refunds:write", "webhooks:read", "webhooks:write", "balance:read", "merchant:read", "merchant:write",
	"api_keys:read", "api_keys:write", "risk:read", "risk:write"}

// newKey creates a key with body using c and returns it, failing unless
// it is 201.
func newKey(t *testing.T, e *apitest.Env, c apitest.Creds, body any) (wire.APIKey, apitest.Creds) {
	t.Helper()
	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys", Auth: &c, Body: body})
	if res.Status != http.StatusCreated {
		t.Fatalf("create key %v: %d %s", body, res.Status, res.Body)
	}
	var k wire.APIKey
	res.Decode(t, &k)
	return k, apitest.Creds{ID: k.ID, Secret: k.Secret}
}

// wantScopeRefused fails unless res is 403 insufficient_scope naming
// scope, with the rate limit's headers like every answer of the route.
func wantScopeRefused(t *testing.T, res apitest.Response, scope string) {
	t.Helper()
	apitest.WantError(t, res, http.StatusForbidden, "insufficient_scope")
	if !strings.Contains(string(res.Body), scope) {
		t.Errorf("403 does not name the scope %s: %s", scope, res.Body)
	}
	if res.Header.Get("X-RateLimit-Limit") == "" || res.Header.Get("X-RateLimit-Remaining") == "" {
		t.Errorf("403 for %s without X-RateLimit-* headers: %v", scope, res.Header)
	}
}

// TestScopeMatrix: every merchant API route, called with a key holding
// every scope but the one the route needs (and the :write that implies
// it), is 403 insufficient_scope naming that scope; with a key holding
// only that scope (or its :write) it is anything but 403.
func TestScopeMatrix(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, full := e.SignUp("matrix@shop.test")
	without, with := map[string]apitest.Creds{}, map[string]apitest.Creds{}
	keys := func(scope string) (apitest.Creds, apitest.Creds) {
		if _, ok := without[scope]; !ok {
			write := strings.TrimSuffix(scope, ":read") + ":write"
			var rest []string
			for _, g := range grantable {
				if g != scope && g != write {
					rest = append(rest, g)
				}
			}
			_, without[scope] = newKey(t, e, full, map[string]any{"scopes": rest})
			_, with[scope] = newKey(t, e, full, map[string]any{"scopes": []string{scope}})
		}
		return without[scope], with[scope]
	}
	routes := 0
	for _, r := range merchantapi.New(merchantapi.Deps{}).Routes() {
		if r.Scope == "" {
			continue
		}
		routes++
		no, yes := keys(r.Scope)
		path := strings.ReplaceAll(r.Path, ":id", "x_1")
		var body any
		if r.Method != "GET" && r.Method != "DELETE" {
			body = map[string]any{}
			if path == "/v1/api_keys" {
				body = map[string]any{"scopes": []string{"api_keys:write"}}
			}
		}
		wantScopeRefused(t, e.Do(apitest.Req{Method: r.Method, Path: path, Auth: &no, Body: body}), r.Scope)
		if res := e.Do(apitest.Req{Method: r.Method, Path: path, Auth: &yes, Body: body}); res.Status == http.StatusForbidden || res.Status == http.StatusUnauthorized {
			t.Errorf("%s %s with only %s: %d %s", r.Method, path, r.Scope, res.Status, res.Body)
		}
	}
	if routes < 30 {
		t.Fatalf("only %d scoped routes checked", routes)
	}
}

// TestScopedKeysCannotMintStrongerKeys: a key with api_keys:write can
// make or roll only keys within its own scopes, never a full-access key.
func TestScopedKeysCannotMintStrongerKeys(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, full := e.SignUp("mint@shop.test")
	reporting, _ := newKey(t, e, full, map[string]any{"name": "reporting", "scopes": []string{"payments:read"}})
	_, keys := newKey(t, e, full, map[string]any{"name": "key admin", "scopes": []string{"api_keys:write"}})
	before := e.Count(`SELECT count(*) FROM api_keys`)

	post := func(path string, body any) apitest.Response {
		return e.Do(apitest.Req{Method: "POST", Path: path, Auth: &keys, Body: body})
	}
	apitest.WantError(t, post("/v1/api_keys", map[string]any{}), 403, "insufficient_scope")
	apitest.WantError(t, post("/v1/api_keys", map[string]any{"scopes": nil}), 403, "insufficient_scope")
	wantScopeRefused(t, post("/v1/api_keys", map[string]any{"scopes": []string{"api_keys:write", "payments:read"}}), "payments:read")
	apitest.WantError(t, post("/v1/api_keys/"+full.ID+"/roll", map[string]any{}), 403, "insufficient_scope")
	wantScopeRefused(t, post("/v1/api_keys/"+reporting.ID+"/roll", map[string]any{}), "payments:read")
	if n := e.Count(`SELECT count(*) FROM api_keys`); n != before {
		t.Fatalf("%d keys after refused requests, want %d", n, before)
	}
	if n := e.Count(`SELECT count(*) FROM api_keys WHERE expires_at IS NOT NULL`); n != 0 {
		t.Fatalf("a refused roll set %d expiries", n)
	}
	made, _ := newKey(t, e, keys, map[string]any{"name": "another admin", "scopes": []string{"api_keys:write"}})
	if !slices.Equal(made.Scopes, []string{"api_keys:write"}) || made.Name != "another admin" {
		t.Errorf("key within its maker's scopes = %+v", made)
	}
}

// TestScopedKeysCannotRevokeStrongerKeys: a key with api_keys:write
// cannot revoke a key with more authority than its own (the merchant's
// full-access key, a key with a scope it lacks): 403 insufficient_scope,
// and the stronger key keeps working. It can revoke a key within its own
// scopes.
func TestScopedKeysCannotRevokeStrongerKeys(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, full := e.SignUp("revoke-up@shop.test")
	_, reporting := newKey(t, e, full, map[string]any{"name": "reporting", "scopes": []string{"payments:read"}})
	_, keys := newKey(t, e, full, map[string]any{"name": "key admin", "scopes": []string{"api_keys:write"}})
	del := func(id string) apitest.Response {
		return e.Do(apitest.Req{Method: "DELETE", Path: "/v1/api_keys/" + id, Auth: &keys})
	}
	res := del(full.ID)
	apitest.WantError(t, res, http.StatusForbidden, "insufficient_scope")
	if !strings.Contains(string(res.Body), "full access") {
		t.Errorf("refused revoke of the full-access key does not say why: %s", res.Body)
	}
	wantScopeRefused(t, del(reporting.ID), "payments:read")
	if n := e.Count(`SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL`); n != 0 {
		t.Fatalf("refused revokes revoked %d keys", n)
	}
	for _, c := range []apitest.Creds{full, reporting} {
		if res := e.Do(apitest.Req{Method: "GET", Path: "/v1/payments", Auth: &c}); res.Status != http.StatusOK {
			t.Fatalf("key %s after a refused revoke: %d %s", c.ID, res.Status, res.Body)
		}
	}
	peer, _ := newKey(t, e, full, map[string]any{"name": "peer admin", "scopes": []string{"api_keys:write"}})
	if res := del(peer.ID); res.Status != http.StatusOK {
		t.Fatalf("revoke of a key within the caller's scopes: %d %s", res.Status, res.Body)
	}
}

// TestKeyNamesScopesAndErrors: a key keeps its name and scopes, does what
// they allow and nothing else; malformed requests make no key.
func TestKeyNamesScopesAndErrors(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, full := e.SignUp("scopes@shop.test")
	k, rc := newKey(t, e, full, map[string]any{"name": " reporting ", "scopes": []string{"payments:read", "payments:read", "balance:read"}})
	if k.Name != "reporting" || !slices.Equal(k.Scopes, []string{"payments:read", "balance:read"}) || k.ExpiresAt != nil || !strings.HasPrefix(k.Secret, "sk_test_") {
		t.Fatalf("new key = %+v", k)
	}
	if res := e.Do(apitest.Req{Method: "GET", Path: "/v1/payments", Auth: &rc}); res.Status != 200 {
		t.Errorf("payments:read key lists payments: %d %s", res.Status, res.Body)
	}
	wantScopeRefused(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links", Auth: &rc, Body: map[string]any{"amount": 100, "currency": "usd"}}), "payment_links:write")
	wantScopeRefused(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &rc}), "merchant:read")
	if n := e.Count(`SELECT count(*) FROM payment_links`); n != 0 {
		t.Fatal("a refused key created a link")
	}

	before := e.Count(`SELECT count(*) FROM api_keys`)
	for _, tt := range []struct {
		body        any
		code, param string
	}{
		{map[string]any{"scopes": []string{"payments:read", "everything"}}, "scope_invalid", "scopes"},
		{map[string]any{"scopes": []string{"payments:write"}}, "scope_invalid", "scopes"},
		{map[string]any{"scopes": []string{}}, "scope_invalid", "scopes"},
		{map[string]any{"name": strings.Repeat("n", 101)}, "name_invalid", "name"},
		{map[string]any{"secret": "mine"}, "unknown_parameter", "secret"},
	} {
		res := e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys", Auth: &full, Body: tt.body})
		apitest.WantError(t, res, 400, tt.code)
		var b struct {
			Error struct{ Param string } `json:"error"`
		}
		res.Decode(t, &b)
		if b.Error.Param != tt.param {
			t.Errorf("%v: param %q, want %q", tt.body, b.Error.Param, tt.param)
		}
	}
	if n := e.Count(`SELECT count(*) FROM api_keys`); n != before {
		t.Fatalf("%d keys after refused requests, want %d", n, before)
	}
	var listed wire.List[wire.APIKey]
	e.Do(apitest.Req{Method: "GET", Path: "/v1/api_keys", Auth: &full}).Decode(t, &listed)
	if len(listed.Data) != 2 || listed.Data[0].ID != k.ID || listed.Data[0].Name != "reporting" ||
		!slices.Equal(listed.Data[0].Scopes, k.Scopes) || listed.Data[1].Scopes != nil || listed.Data[0].Secret != "" {
		t.Errorf("GET /v1/api_keys = %+v", listed.Data)
	}
}

// TestRollKey: a roll answers a new pair with the same name and scopes;
// the old key works until its expires_at and is then 401
// api_key_expired; a key no longer active cannot be rolled.
func TestRollKey(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, full := e.SignUp("roll@shop.test")
	old, oc := newKey(t, e, full, map[string]any{"name": "shop", "scopes": []string{"payments:read"}})
	roll := func(c apitest.Creds, keyID string, body any) apitest.Response {
		return e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys/" + keyID + "/roll", Auth: &c, Body: body})
	}
	for _, bad := range []any{map[string]any{"expires_in": 604801}, map[string]any{"expires_in": -1}, map[string]any{"expires_in": 1.5}} {
		res := roll(full, old.ID, bad)
		if res.ErrorCode() != "expiry_invalid" && res.ErrorCode() != "parameter_invalid" {
			t.Errorf("roll %v = %d %s; want 400 expiry_invalid", bad, res.Status, res.Body)
		}
		apitest.WantError(t, res, 400, res.ErrorCode())
	}
	apitest.WantError(t, roll(full, "key_01m8000000000000000000000a", nil), 404, "api_key_not_found")

	res := roll(full, old.ID, map[string]any{"expires_in": 3600})
	if res.Status != http.StatusCreated {
		t.Fatalf("roll = %d %s", res.Status, res.Body)
	}
	var made wire.APIKey
	res.Decode(t, &made)
	nc := apitest.Creds{ID: made.ID, Secret: made.Secret}
	if made.ID == old.ID || made.Name != "shop" || !slices.Equal(made.Scopes, old.Scopes) || made.ExpiresAt != nil || made.Secret == "" {
		t.Fatalf("rolled key = %+v", made)
	}
	get := func(c apitest.Creds) apitest.Response {
		return e.Do(apitest.Req{Method: "GET", Path: "/v1/payments", Auth: &c})
	}
	if get(oc).Status != 200 || get(nc).Status != 200 {
		t.Fatal("within the grace both keys must work")
	}

	e.Clock.Advance(3599 * time.Second)
	if res := get(oc); res.Status != 200 {
		t.Fatalf("old key 1 s before its expiry: %d %s", res.Status, res.Body)
	}
	e.Clock.Advance(time.Second)
	apitest.WantError(t, get(oc), http.StatusUnauthorized, "api_key_expired")
	if get(nc).Status != 200 {
		t.Fatal("the new key stopped working")
	}
	apitest.WantError(t, roll(full, old.ID, nil), 409, "api_key_inactive")

	// expires_in 0 ends the old key at once; the default is 24 hours.
	_, zc := newKey(t, e, full, map[string]any{"name": "zero"})
	if res := roll(full, zc.ID, map[string]any{"expires_in": 0}); res.Status != 201 {
		t.Fatalf("roll with expires_in 0: %d %s", res.Status, res.Body)
	}
	apitest.WantError(t, get(zc), http.StatusUnauthorized, "api_key_expired")
	def, _ := newKey(t, e, full, nil)
	at := e.Clock.Now().UTC().Truncate(time.Second)
	if res := roll(full, def.ID, nil); res.Status != 201 {
		t.Fatalf("roll without a body: %d %s", res.Status, res.Body)
	}
	var listed wire.List[wire.APIKey]
	e.Do(apitest.Req{Method: "GET", Path: "/v1/api_keys?limit=100", Auth: &full}).Decode(t, &listed)
	for _, k := range listed.Data {
		if k.ID != def.ID {
			continue
		}
		if k.ExpiresAt == nil {
			t.Fatalf("rolled key %s has no expires_at", k.ID)
		}
		exp, err := time.Parse(time.RFC3339, *k.ExpiresAt)
		if err != nil || exp.Before(at.Add(24*time.Hour)) || exp.After(e.Clock.Now().Add(24*time.Hour)) {
			t.Errorf("default roll: expires_at %v, want 24 h after %v", k.ExpiresAt, at)
		}
	}
}

// TestKeyReplaysNeedTheCallersScopes: a key limited to api_keys:write may
// not make or roll a key with full access, and it does not get one by
// resending the Idempotency-Key and body a full-access key used: that is
// its own request (403), not a replay of the first answer and its secret.
// A key with the same scopes (here the full-access key's other pair)
// still gets the replay.
func TestKeyReplaysNeedTheCallersScopes(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, full := e.SignUp("replayscope@shop.test")
	_, other := newKey(t, e, full, map[string]any{"name": "deploy"})
	_, weak := newKey(t, e, full, map[string]any{"name": "keys", "scopes": []string{"api_keys:write"}})
	create := func(c apitest.Creds) apitest.Response {
		return e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys", Auth: &c,
			Header: map[string]string{"Idempotency-Key": "make-ci-key"}, Body: map[string]any{"name": "ci"}})
	}
	roll := func(c apitest.Creds) apitest.Response {
		return e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys/" + other.ID + "/roll", Auth: &c,
			Header: map[string]string{"Idempotency-Key": "roll-deploy"}, Body: map[string]any{"expires_in": 3600}})
	}
	for name, do := range map[string]func(apitest.Creds) apitest.Response{"create": create, "roll": roll} {
		first := do(full)
		var made wire.APIKey
		if first.Decode(t, &made); first.Status != http.StatusCreated || made.Scopes != nil || made.Secret == "" {
			t.Fatalf("%s with the full-access key: %d %s", name, first.Status, first.Body)
		}
		res := do(weak)
		wantScopeRefused(t, res, "full access")
		if strings.Contains(string(res.Body), made.Secret) {
			t.Fatalf("%s replayed to the api_keys:write key: %s", name, res.Body)
		}
		if name == "create" {
			again := do(other)
			if again.Header.Get("Idempotent-Replayed") != "true" || !strings.Contains(string(again.Body), made.Secret) {
				t.Errorf("%s retried by a key with the same scopes: %d %s; want the replay", name, again.Status, again.Body)
			}
		}
	}
}
