package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWalletDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://x/y", "REDIS_URL": "redis://z:6379/0",
		"PAYLINK_ENCRYPTION_KEYS": key, "PAYLINK_BASE_URL": "https://pay.example.com:8443/"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.WebAuthnRPID != "pay.example.com" {
		t.Errorf("RP id = %q, want the base URL's host", c.WebAuthnRPID)
	}
	if diff := cmp.Diff([]string{"https://pay.example.com:8443"}, c.WebAuthnOrigins); diff != "" {
		t.Errorf("origins (-want +got):\n%s", diff)
	}
	if c.WalletSessionTTL != 12*time.Hour || c.LoginMaxFailures != 10 || c.LoginLockout != 15*time.Minute ||
		c.RateLogin.Limit != 20 || c.RateLogin.Period != time.Minute || c.WebAuthnTimeout != 2*time.Minute {
		t.Errorf("wallet defaults = %v %d %v %+v %v", c.WalletSessionTTL, c.LoginMaxFailures, c.LoginLockout, c.RateLogin, c.WebAuthnTimeout)
	}
}

func TestWebAuthnOriginsMustBelongToTheRelyingParty(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://x/y", "REDIS_URL": "redis://z:6379/0", "PAYLINK_ENCRYPTION_KEYS": key,
		"PAYLINK_WEBAUTHN_RP_ID": "example.com"}
	base["PAYLINK_WEBAUTHN_ORIGINS"] = "https://pay.example.com, https://example.com"
	c, err := Load(env(base))
	if err != nil {
		t.Fatalf("subdomain origins refused: %v", err)
	}
	if len(c.WebAuthnOrigins) != 2 {
		t.Errorf("origins = %v", c.WebAuthnOrigins)
	}
	base["PAYLINK_WEBAUTHN_ORIGINS"] = "https://evil-example.com,pay.example.com"
	_, err = Load(env(base))
	if err == nil || !strings.Contains(err.Error(), `"https://evil-example.com" is not on the relying party`) ||
		!strings.Contains(err.Error(), `"pay.example.com" is not an origin`) {
		t.Fatalf("bad origins: err = %v", err)
	}
}
