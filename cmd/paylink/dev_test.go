package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/redistest"
	"github.com/paylink/paylink/internal/returnurl"
)

// TestDevPrintsAWorkingCurlLine runs `paylink dev` on given services and
// follows its printed instructions, as a newcomer would.
func TestDevPrintsAWorkingCurlLine(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewWithURL(t)
	_, redisURL := redistest.New(t)
	printed := regexp.MustCompile(`(?s)listening on (\S+)\).*curl -u (key_\w+):(sk_test_\S+) http://\S+/v1/merchant\n` +
		`.*\n    (http://127\.0\.0\.1:\d+)/   \(payment form (pform_\w+), allowed there only\)\n` +
		`.*\n    (http://\S+/pay/s\?\S+)\n`)
	env := map[string]string{
		"DATABASE_URL": dbURL, "REDIS_URL": redisURL, "PAYLINK_ADDR": "127.0.0.1:0",
		"PAYLINK_DEV_DIR": t.TempDir(), "PAYLINK_EXAMPLE_ADDR": "127.0.0.1:0",
	}
	start := func() (context.CancelFunc, chan error, []string) {
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		out := &lineWatcher{re: printed, found: make(chan string, 1)}
		go func() { done <- run(ctx, []string{"dev"}, getenvFrom(env), out, io.Discard) }()
		started(t, out, done)
		m := printed.FindStringSubmatch(out.String())
		return stop, done, append(m, dashPrinted.FindStringSubmatch(out.String())...) // m[8]: base URL, m[9]: password
	}

	stop, done, m := start()
	addr, keyID, secret := m[1], m[2], m[3]
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/merchant", nil)
	req.SetBasicAuth(keyID, secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var merchant struct{ Email string }
	json.NewDecoder(res.Body).Decode(&merchant)
	res.Body.Close()
	if res.StatusCode != 200 || merchant.Email != demoEmail {
		t.Fatalf("the printed curl line answered %d %+v; want 200 for %s", res.StatusCode, merchant, demoEmail)
	}
	if len(m) != 10 || dashboardLogIn(t, addr, m[8], m[9]) != http.StatusSeeOther {
		t.Fatalf("the printed dashboard password does not log in: %q", m[7:])
	}
	password := m[9]
	checkForwardedFor(t, addr)
	checkExampleSite(t, addr, keyID, secret, m[4], m[5])
	checkSignedLink(t, addr, m[6])
	stop()
	if err := within(t, done, "return from dev after stop"); err != nil {
		t.Fatalf("dev did not stop cleanly: %v", err)
	}

	// A second start prints a new pair and retires the old one.
	stop, done, m = start()
	defer func() { stop(); within(t, done, "return from dev after stop") }()
	if m[2] == keyID {
		t.Fatal("second start printed the same key")
	}
	req, _ = http.NewRequest("GET", "http://"+m[1]+"/v1/merchant", nil)
	req.SetBasicAuth(keyID, secret)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the first run's key after a restart: %d, want 401", res.StatusCode)
	}
	if len(m) != 10 || m[9] == password || dashboardLogIn(t, m[1], m[8], password) != http.StatusUnauthorized ||
		dashboardLogIn(t, m[1], m[8], m[9]) != http.StatusSeeOther {
		t.Fatal("a restart must print a new dashboard password and retire the old one")
	}
}

// checkForwardedFor signs up two merchants at the dev server at addr,
// each "from" its own shopper address in X-Forwarded-For, then a third
// from the first's: the per-IP sign-up limit counts each address
// apart, as dev trusts a loopback client's header.
func checkForwardedFor(t *testing.T, addr string) {
	t.Helper()
	remaining := func(n int, ip string) string {
		body := fmt.Sprintf(`{"name":"Shop","email":"xff%d@shop.test","password":"correct horse battery"}`, n)
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/merchants", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", ip)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("sign-up from %s: %d", ip, res.StatusCode)
		}
		return res.Header.Get("X-RateLimit-Remaining")
	}
	a, b, again := remaining(1, "203.0.113.7"), remaining(2, "198.51.100.9"), remaining(3, "203.0.113.7")
	if a == "" || a != b || again == a {
		t.Fatalf("X-RateLimit-Remaining for two addresses then the first again = %q, %q, %q; want the first two equal and the third lower", a, b, again)
	}
}

// dashPrinted is the dashboard's lines of dev's banner.
var dashPrinted = regexp.MustCompile(`Dashboard:\s+(\S+)/dashboard\n\s+Demo merchant:\s+Demo Shop <demo@paylink\.test>, password (\S+) `)

// dashboardLogIn posts the dashboard's log-in form for the demo merchant to
// the server at addr, as a page of origin would, and returns the status.
func dashboardLogIn(t *testing.T, addr, origin, password string) int {
	t.Helper()
	form := url.Values{"email": {demoEmail}, "password": {password}, "idempotency_key": {"dev-test-login"}}
	req, _ := http.NewRequest("POST", "http://"+addr+"/dashboard/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// get fetches url and returns the status, headers and body.
func get(t *testing.T, url string, auth ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if len(auth) == 2 {
		req.SetBasicAuth(auth[0], auth[1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, string(b)
}

// checkExampleSite follows the printed example merchant site: it is
// served, embeds the demo form with the SDK, and the form is allowed on
// exactly that origin (the embed page's frame-ancestors).
func checkExampleSite(t *testing.T, addr, keyID, secret, origin, formID string) {
	t.Helper()
	status, _, page := get(t, origin+"/")
	if status != 200 || !strings.Contains(page, `data-form="`+formID+`"`) ||
		!strings.Contains(page, `<script src="http://localhost:8080/sdk/paylink.js">`) ||
		!strings.Contains(page, `<script src="/shop.js" defer>`) {
		t.Fatalf("example site %s: %d\n%s", origin, status, page)
	}
	if status, h, js := get(t, origin+"/shop.js"); status != 200 || !strings.Contains(js, "Paylink.mount(") ||
		!strings.HasPrefix(h.Get("Content-Type"), "text/javascript") {
		t.Fatalf("shop.js: %d %v", status, h)
	}
	var form struct {
		AllowedOrigins []string `json:"allowed_origins"`
		Status         string
	}
	status, _, body := get(t, "http://"+addr+"/v1/payment_forms/"+formID, keyID, secret)
	if err := json.Unmarshal([]byte(body), &form); err != nil || status != 200 || form.Status != "active" ||
		len(form.AllowedOrigins) != 1 || form.AllowedOrigins[0] != origin {
		t.Fatalf("demo form: %d %s", status, body)
	}
	status, h, _ := get(t, "http://"+addr+"/embed/forms/"+formID+"?parent_origin="+url.QueryEscape(origin))
	if status != 200 || !strings.HasSuffix(h.Get("Content-Security-Policy"), "frame-ancestors "+origin) {
		t.Fatalf("embed page of the demo form: %d %v", status, h)
	}
}

// checkSignedLink opens the printed signed link on the server's real
// address: the checkout page of $15.00.
func checkSignedLink(t *testing.T, addr, link string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	status, _, page := get(t, "http://"+addr+u.Path+"?"+u.RawQuery)
	if status != 200 || !strings.Contains(page, "$15.00") || !strings.Contains(page, "Paylink demo mug") {
		t.Fatalf("printed signed link: %d\n%s", status, page)
	}
}

// devSecrets gives an existing .data/dev.env the keys added since it was
// made, keeping the ones it has (data sealed with them must stay readable).
func TestDevSecretsAddsMissingKeys(t *testing.T) {
	dir := t.TempDir()
	old := "PAYLINK_ENCRYPTION_KEYS=1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
	if err := os.WriteFile(filepath.Join(dir, "dev.env"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := devSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got["PAYLINK_ENCRYPTION_KEYS"] != "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" {
		t.Errorf("encryption key changed to %q", got["PAYLINK_ENCRYPTION_KEYS"])
	}
	keys, err := returnurl.ParseKeys(got["PAYLINK_RETURN_SIGNING_KEYS"])
	if err != nil || len(keys) != 1 || keys[0].ID != "r1" {
		t.Fatalf("generated return key %q: %v, %v", got["PAYLINK_RETURN_SIGNING_KEYS"], keys, err)
	}
	again, err := devSecrets(dir)
	if err != nil || again["PAYLINK_RETURN_SIGNING_KEYS"] != got["PAYLINK_RETURN_SIGNING_KEYS"] {
		t.Errorf("a second start changed the return key: %q, %v", again["PAYLINK_RETURN_SIGNING_KEYS"], err)
	}
}

// paylink dev and paylink cluster without PAYLINK_SMTP_HOST write e-mails
// through their own plain-SMTP sink; a TLS mode, port or password meant
// for a mail server stops them at once with the fix, before anything is
// started, instead of failing every e-mail later.
func TestLocalMailSinkRefusesServerSettings(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string // "" when it must start
	}{
		{map[string]string{"PAYLINK_SMTP_TLS": "implicit"}, "PAYLINK_SMTP_TLS=implicit but PAYLINK_SMTP_HOST is not set"},
		{map[string]string{"PAYLINK_SMTP_TLS": "STARTTLS"}, "PAYLINK_SMTP_TLS=starttls but PAYLINK_SMTP_HOST is not set"},
		{map[string]string{"PAYLINK_SMTP_PORT": "465"}, "PAYLINK_SMTP_PORT is set but PAYLINK_SMTP_HOST is not"},
		{map[string]string{"PAYLINK_SMTP_PASSWORD": "pw"}, "PAYLINK_SMTP_PASSWORD is set but PAYLINK_SMTP_HOST is not"},
		{map[string]string{"PAYLINK_SMTP_TLS": "auto"}, ""},
		{map[string]string{"PAYLINK_SMTP_TLS": "none"}, ""},
		{map[string]string{"PAYLINK_SMTP_HOST": "smtp.mail.test", "PAYLINK_SMTP_TLS": "implicit", "PAYLINK_SMTP_PORT": "465"}, ""},
	} {
		dir := t.TempDir()
		getenv := func(k string) string {
			if k == "PAYLINK_DEV_DIR" {
				return dir
			}
			return tc.env[k]
		}
		err := localMailConflict(getenv, filepath.Join(dir, "mail"))
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: %v, want no objection", tc.env, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), filepath.Join(dir, "mail")) {
			t.Errorf("%v: localMailConflict = %v, want %q and the mail folder", tc.env, err, tc.want)
		}
		// Both commands stop with it before starting a server or writing
		// their secrets.
		if err := dev(context.Background(), getenv, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: dev = %v, want %q", tc.env, err, tc.want)
		}
		if err := clusterCmd(context.Background(), []string{"-dir", dir}, getenv, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: cluster = %v, want %q", tc.env, err, tc.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "dev.env")); !os.IsNotExist(err) {
			t.Errorf("%v: dev.env written before the refusal (%v)", tc.env, err)
		}
	}
}
