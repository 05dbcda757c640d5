package config

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

const key = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://x/y", "REDIS_URL": "redis://z:6379/0", "PAYLINK_ENCRYPTION_KEYS": key}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.BaseURL.String() != "http://localhost:8080" || c.DBMaxConns != int32(4*runtime.GOMAXPROCS(0)) ||
		c.IdempotencyRetention != 48*time.Hour || c.RateAPI.Limit != 100 || c.RateAPI.Period != time.Second ||
		c.RatePublic.Limit != 60 || c.RatePublic.Period != time.Minute || c.Keyring.Current() != 1 || len(c.Currencies.List()) != 7 ||
		c.ExportTimeout != 30*time.Minute {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load(env(map[string]string{
		"PAYLINK_DB_MAX_CONNS":          "0",
		"PAYLINK_LOG_LEVEL":             "loud",
		"PAYLINK_RATE_LIMIT_API":        "fast",
		"PAYLINK_IDEMPOTENCY_RETENTION": "1h",
		"PAYLINK_BASE_URL":              "ftp://x",
		"PAYLINK_TRUSTED_PROXIES":       "10.0.0.0/8, not-an-ip",
		"PAYLINK_ENCRYPTION_KEYS":       "1:short",
		"PAYLINK_CURRENCIES":            "USD,DOGE",
		"PAYLINK_EXPORT_TIMEOUT":        "500ms",
	}))
	if err == nil {
		t.Fatal("Load succeeded with bad configuration")
	}
	for _, want := range []string{"DATABASE_URL: is required", "REDIS_URL: is required", "PAYLINK_DB_MAX_CONNS",
		"PAYLINK_LOG_LEVEL", "PAYLINK_RATE_LIMIT_API", "PAYLINK_IDEMPOTENCY_RETENTION", "PAYLINK_BASE_URL",
		`"not-an-ip"`, "PAYLINK_ENCRYPTION_KEYS: entry 1", `PAYLINK_CURRENCIES: "DOGE"`, "PAYLINK_EXPORT_TIMEOUT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestLoadReportsAMalformedDatabaseURL: a DATABASE_URL pgx cannot read is
// reported with the other problems, at once, without its password.
func TestLoadReportsAMalformedDatabaseURL(t *testing.T) {
	for _, bad := range []string{"notaurl", "postgres://paylink:hunter22@db:notaport/paylink", "host=db password=hunter22 port=x"} {
		_, err := Load(env(map[string]string{"DATABASE_URL": bad, "REDIS_URL": "redis://z:6379/0",
			"PAYLINK_ENCRYPTION_KEYS": key, "PAYLINK_LOG_LEVEL": "loud"}))
		if err == nil || !strings.Contains(err.Error(), "config: DATABASE_URL: ") || !strings.Contains(err.Error(), "PAYLINK_LOG_LEVEL") {
			t.Errorf("Load with DATABASE_URL %q: %v; want it reported with PAYLINK_LOG_LEVEL", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter22") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

func TestEveryVarHasHelp(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range Vars() {
		if v.Help == "" || seen[v.Name] {
			t.Errorf("variable %s: empty help or listed twice", v.Name)
		}
		seen[v.Name] = true
	}
}

func TestLoadWebhookAndMail(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://x/y", "REDIS_URL": "redis://z:6379/0", "PAYLINK_ENCRYPTION_KEYS": key}
	c, err := Load(env(base))
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
		14 * time.Hour, 14 * time.Hour, 14 * time.Hour}
	if c.WebhookAllowPrivate || c.WebhookTimeout != 15*time.Second || len(c.WebhookRetries) != len(want) ||
		c.WebhookDisableAfter != 72*time.Hour || c.SMTPHost != "" || c.SMTPPort != 587 || c.SMTPFrom.Address != "no-reply@paylink.test" {
		t.Fatalf("defaults = %+v", c)
	}
	for i := range want {
		if c.WebhookRetries[i] != want[i] {
			t.Fatalf("retry schedule = %v, want %v", c.WebhookRetries, want)
		}
	}
	bad := map[string]string{
		"PAYLINK_WEBHOOK_ALLOW_PRIVATE":  "maybe",
		"PAYLINK_WEBHOOK_RETRY_SCHEDULE": "5s,soon",
		"PAYLINK_SMTP_PORT":              "0",
		"PAYLINK_SMTP_FROM":              "not an address",
		"PAYLINK_OUTBOX_POLL":            "0s",
	}
	for k, v := range base {
		bad[k] = v
	}
	_, err = Load(env(bad))
	for name := range bad {
		if _, ok := base[name]; ok {
			continue
		}
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error lacks %s: %v", name, err)
		}
	}
}

func TestLinkSigningKeys(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://x/y", "REDIS_URL": "redis://z:6379/0",
		"PAYLINK_ENCRYPTION_KEYS": "2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=," + key}
	c, err := Load(env(base))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.LinkSigningKeys) != 2 || c.LinkSigningKeys[0].ID != "e2" || c.LinkSigningKeys[1].ID != "e1" || len(c.SimulatorSecret) != 32 {
		t.Fatalf("derived keys = %+v", c.LinkSigningKeys)
	}
	base["PAYLINK_LINK_SIGNING_KEYS"] = "new:" + strings.Repeat("A", 44) + ",old:" + strings.Repeat("B", 44)
	base["PAYLINK_SIMULATOR_SECRET"] = strings.Repeat("C", 44)
	if c, err = Load(env(base)); err != nil {
		t.Fatal(err)
	}
	if len(c.LinkSigningKeys) != 2 || c.LinkSigningKeys[0].ID != "new" || len(c.LinkSigningKeys[0].Secret) != 33 {
		t.Fatalf("configured keys = %+v", c.LinkSigningKeys)
	}
	for _, bad := range []string{"nokid", "k:short", "bad kid!:" + strings.Repeat("A", 44), "a:" + strings.Repeat("A", 44) + ",a:" + strings.Repeat("B", 44)} {
		base["PAYLINK_LINK_SIGNING_KEYS"] = bad
		if _, err := Load(env(base)); err == nil || !strings.Contains(err.Error(), "PAYLINK_LINK_SIGNING_KEYS") {
			t.Errorf("keys %q: err = %v", bad, err)
		}
	}
}

func TestPasskeysNeedADomainName(t *testing.T) {
	m := map[string]string{"DATABASE_URL": "postgres://x/y", "REDIS_URL": "redis://z:6379/0", "PAYLINK_ENCRYPTION_KEYS": key,
		"PAYLINK_BASE_URL": "http://127.0.0.1:8080"}
	if _, err := Load(env(m)); err == nil || !strings.Contains(err.Error(), "PAYLINK_WEBAUTHN_RP_ID") {
		t.Fatalf("base URL on an IP address: err = %v, want one naming PAYLINK_WEBAUTHN_RP_ID", err)
	}
	m["PAYLINK_BASE_URL"] = "http://localhost:8080"
	if c, err := Load(env(m)); err != nil || c.WebAuthnRPID != "localhost" {
		t.Fatalf("localhost: %v, %v", c, err)
	}
}

func TestReturnSigningKeys(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://x/y", "REDIS_URL": "redis://z:6379/0",
		"PAYLINK_ENCRYPTION_KEYS": "2:" + strings.Repeat("B", 43) + "=," + key}
	c, err := Load(env(base))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ReturnSigningKeys) != 2 || c.ReturnSigningKeys[0].ID != "e2" || c.ReturnSigningKeys[1].ID != "e1" {
		t.Fatalf("derived return keys = %v; want e2 (current encryption key) then e1", c.ReturnSigningKeys)
	}
	again, _ := Load(env(base))
	if !again.ReturnSigningKeys[0].Private.Equal(c.ReturnSigningKeys[0].Private) {
		t.Error("derived return keys differ between two loads: replicas would sign with different keys")
	}
	base["PAYLINK_RETURN_SIGNING_KEYS"] = "r2:" + strings.Repeat("A", 43) + "=, r1:" + strings.Repeat("C", 43) + "="
	if c, err = Load(env(base)); err != nil || len(c.ReturnSigningKeys) != 2 || c.ReturnSigningKeys[0].ID != "r2" {
		t.Fatalf("explicit return keys = %v, %v; want r2 then r1", c.ReturnSigningKeys, err)
	}
	for _, bad := range []string{"r1", "r1:short", "bad kid!:" + strings.Repeat("A", 43) + "=",
		"r1:" + strings.Repeat("A", 43) + "=,r1:" + strings.Repeat("C", 43) + "="} {
		base["PAYLINK_RETURN_SIGNING_KEYS"] = bad
		if _, err := Load(env(base)); err == nil || !strings.Contains(err.Error(), "PAYLINK_RETURN_SIGNING_KEYS") {
			t.Errorf("PAYLINK_RETURN_SIGNING_KEYS=%q: err = %v; want it refused", bad, err)
		}
	}
}

// A failing webhook delivery is retried for about three days by default
// (API.md): 69 h 35 min 5 s before the jitter, 55–84 h with it.
func TestDefaultWebhookScheduleSpansAboutThreeDays(t *testing.T) {
	c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://x/y", "REDIS_URL": "redis://z:6379/0", "PAYLINK_ENCRYPTION_KEYS": key}))
	if err != nil {
		t.Fatal(err)
	}
	var total time.Duration
	for _, d := range c.WebhookRetries {
		total += d
	}
	if total != 69*time.Hour+35*time.Minute+5*time.Second {
		t.Fatalf("schedule %v spans %s", c.WebhookRetries, total)
	}
	if lo, hi := total*8/10, total*12/10; lo < 55*time.Hour || hi > 84*time.Hour {
		t.Fatalf("with ±20%% jitter the span is %s–%s", lo, hi)
	}
}

// SMTP security settings that cannot work, or would send the password in
// clear, stop the start with a message naming the fix.
func TestSMTPSecurityCombinations(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://x/y", "REDIS_URL": "redis://z:6379/0", "PAYLINK_ENCRYPTION_KEYS": key,
		"PAYLINK_SMTP_HOST": "smtp.mail.test", "PAYLINK_BASE_URL": "https://pay.shop.test"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	c, err := Load(env(base))
	if err != nil || c.SMTPTLS != "auto" || c.SMTPHelo != "pay.shop.test" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	for _, ok := range []map[string]string{
		with("PAYLINK_SMTP_TLS", "implicit", "PAYLINK_SMTP_PORT", "465", "PAYLINK_SMTP_USERNAME", "u", "PAYLINK_SMTP_PASSWORD", "p"),
		with("PAYLINK_SMTP_TLS", "starttls", "PAYLINK_SMTP_HELO", "mx1.shop.test"),
		with("PAYLINK_SMTP_TLS", "none", "PAYLINK_SMTP_HOST", "127.0.0.1", "PAYLINK_SMTP_USERNAME", "u", "PAYLINK_SMTP_PASSWORD", "p"),
		// docker-compose.yml's defaults when no mail server is given.
		with("PAYLINK_SMTP_HOST", "", "PAYLINK_SMTP_TLS", "auto", "PAYLINK_SMTP_PORT", "587", "PAYLINK_SMTP_USERNAME", "", "PAYLINK_SMTP_PASSWORD", ""),
	} {
		if _, err := Load(env(ok)); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{with("PAYLINK_SMTP_TLS", "implicit"), "use PAYLINK_SMTP_PORT=465"},
		{with("PAYLINK_SMTP_PORT", "465"), "set PAYLINK_SMTP_TLS=implicit"},
		{with("PAYLINK_SMTP_TLS", "starttls", "PAYLINK_SMTP_PORT", "465"), "set PAYLINK_SMTP_TLS=implicit"},
		{with("PAYLINK_SMTP_TLS", "none", "PAYLINK_SMTP_USERNAME", "u", "PAYLINK_SMTP_PASSWORD", "p"), "password in clear"},
		{with("PAYLINK_SMTP_USERNAME", "u"), "PAYLINK_SMTP_USERNAME: set both"},
		{with("PAYLINK_SMTP_TLS", "ssl"), `PAYLINK_SMTP_TLS: "ssl" is not one of`},
		{with("PAYLINK_SMTP_HELO", "bad name!"), `PAYLINK_SMTP_HELO: "bad name!" is not a host name`},
		{with("PAYLINK_SMTP_HOST", "", "PAYLINK_SMTP_TLS", "implicit", "PAYLINK_SMTP_PORT", "465"), "PAYLINK_SMTP_HOST: unset, so PAYLINK_SMTP_TLS=implicit applies to nothing"},
		{with("PAYLINK_SMTP_HOST", "", "PAYLINK_SMTP_USERNAME", "u", "PAYLINK_SMTP_PASSWORD", "p"), "PAYLINK_SMTP_HOST: unset, so the SMTP user name"},
	} {
		_, err := Load(env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error with %q", tc.env, err, tc.want)
		}
	}
}
