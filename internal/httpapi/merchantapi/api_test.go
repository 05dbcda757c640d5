package merchantapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/merchantapi"
)

// apiScopes are the API-key scopes of API.md ("API keys: names, scopes,
// roll", and the risk scopes of Part 3).
var apiScopes = []string{"payment_links:read", "payment_links:write", "payment_forms:read", "payment_forms:write",
	"payments:read", "refunds:write", "webhooks:read", "webhooks:write", "balance:read", "merchant:write",
	"api_keys:write", "risk:read", "risk:write"}

// TestEveryRouteNamesAnAPIScope: every merchant API route but sign-up
// declares the scope a key needs, by one of API.md's names or the :read a
// :write implies.
func TestEveryRouteNamesAnAPIScope(t *testing.T) {
	known := func(scope string) bool {
		return slices.Contains(apiScopes, scope) ||
			strings.HasSuffix(scope, ":read") && slices.Contains(apiScopes, strings.TrimSuffix(scope, ":read")+":write")
	}
	for _, r := range merchantapi.New(merchantapi.Deps{}).Routes() {
		switch {
		case r.Path == "/v1/merchants":
			if r.Scope != "" || r.Auth.Check != nil {
				t.Errorf("sign-up is public, yet declares %q / %s", r.Scope, r.Auth.Name)
			}
		case r.Auth.Check == nil:
			t.Errorf("%s %s takes no API key", r.Method, r.Path)
		case !known(r.Scope):
			t.Errorf("%s %s declares scope %q, which API.md does not name", r.Method, r.Path, r.Scope)
		case r.Method != "GET" && strings.HasSuffix(r.Scope, ":read") && r.Path != "/v1/risk/rules/test":
			// (a backtest only reads, and API.md Part 3 puts it under risk:read)
			t.Errorf("%s %s changes something with only %q", r.Method, r.Path, r.Scope)
		}
	}
}
