package walletapp_test

import (
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/passkey/passkeytest"
	"github.com/paylink/paylink/internal/wire"
)

// TestRenamePasskey: a user renames a passkey of theirs and the list shows
// the new name; bad names and other users' passkeys are refused and
// change nothing.
func TestRenamePasskey(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("rename@example.test")
	p := apitest.RegisterPasskey(t, s, passkeytest.New(apitest.Origin))
	rename := func(who *apitest.Shopper, id string, body any) apitest.Response {
		return who.Do(apitest.Req{Method: "PATCH", Path: "/v1/wallet/passkeys/" + id, Body: body})
	}
	res := rename(s, p.ID, map[string]string{"name": "  Work laptop  "})
	var got wire.Passkey
	res.Decode(t, &got)
	if res.Status != 200 || got.ID != p.ID || got.Name != "Work laptop" || got.CreatedAt != p.CreatedAt {
		t.Fatalf("rename: %d %s", res.Status, res.Body)
	}
	apitest.WantError(t, rename(s, p.ID, map[string]string{"name": ""}), 400, "passkey_name_invalid")
	apitest.WantError(t, rename(s, p.ID, map[string]string{"name": strings.Repeat("n", 101)}), 400, "passkey_name_invalid")
	apitest.WantError(t, rename(s, p.ID, map[string]string{"name": "tab\there"}), 400, "passkey_name_invalid")
	apitest.WantError(t, rename(s, p.ID, map[string]any{"name": "x", "label": "y"}), 400, "unknown_parameter")
	apitest.WantError(t, rename(s, "pk_missing", map[string]string{"name": "x"}), 404, "passkey_not_found")
	other := e.WalletUser("rename-other@example.test")
	apitest.WantError(t, rename(other, p.ID, map[string]string{"name": "Mine now"}), 404, "passkey_not_found")
	apitest.WantError(t, e.NewShopper().Do(apitest.Req{Method: "PATCH", Path: "/v1/wallet/passkeys/" + p.ID,
		Body: map[string]string{"name": "x"}}), 401, "login_required")
	apitest.WantError(t, s.Do(apitest.Req{Method: "PATCH", Path: "/v1/wallet/passkeys/" + p.ID, Body: map[string]string{"name": "x"},
		Header: map[string]string{"Origin": "https://evil.test"}}), 403, "origin_not_allowed")
	list := s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/passkeys"})
	if list.Status != 200 || !strings.Contains(string(list.Body), `"name":"Work laptop"`) {
		t.Fatalf("list after the refusals: %d %s", list.Status, list.Body)
	}
}
