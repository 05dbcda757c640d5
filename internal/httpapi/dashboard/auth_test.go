package dashboard_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// A merchant signs up and logs in at /dashboard with a cookie session
// that is HttpOnly and SameSite, never an API key, and ends at log-out.
func TestSignUpLogInLogOut(t *testing.T) {
	env := apitest.New(t)
	b := newBrowser(env)
	wantLoginRedirect(t, b.get("/dashboard"))
	wantLoginRedirect(t, b.get("/dashboard/payments"))

	p := b.post("/dashboard/signup", url.Values{"name": {"Mugs & Co"}, "email": {"mugs@shop.test"}, "password": {testPassword}})
	if p.Status != http.StatusSeeOther || p.Location != "/dashboard" {
		t.Fatalf("sign up: %d %q %s", p.Status, p.Location, p.Body)
	}
	cookie := p.Header.Get("Set-Cookie")
	for _, want := range []string{"paylink_dashboard=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	home := b.get("/dashboard")
	if home.Status != http.StatusOK {
		t.Fatalf("home: %d %s", home.Status, home.Body)
	}
	wantContains(t, home, "Welcome, Mugs &amp; Co", "No payments yet")
	if csp := home.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if env.Count(`SELECT count(*) FROM merchant_sessions`) != 1 {
		t.Fatal("want one session row")
	}
	if env.Count(`SELECT count(*) FROM merchant_sessions WHERE position($1 in encode(token_hash, 'escape')) > 0`,
		strings.SplitN(strings.TrimPrefix(cookie, "paylink_dashboard="), ";", 2)[0]) != 0 {
		t.Fatal("the token is stored in the clear")
	}

	// The session cookie is no API key.
	token := strings.SplitN(strings.TrimPrefix(cookie, "paylink_dashboard="), ";", 2)[0]
	res := env.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Header: map[string]string{"Cookie": "paylink_dashboard=" + token}})
	apitest.WantError(t, res, http.StatusUnauthorized, "api_key_missing")

	// Log out ends the session for good: the old cookie no longer works.
	if p := b.post("/dashboard/logout", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("log out: %d %s", p.Status, p.Body)
	}
	wantLoginRedirect(t, b.get("/dashboard"))
	replay := newBrowser(env)
	u, _ := url.Parse(env.Base)
	replay.client.Jar.SetCookies(u, []*http.Cookie{{Name: "paylink_dashboard", Value: token}})
	wantLoginRedirect(t, replay.get("/dashboard"))

	// A wrong password is a 401 on the form, with the e-mail kept.
	p = b.post("/dashboard/login", url.Values{"email": {"mugs@shop.test"}, "password": {"wrong password"}})
	if p.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", p.Status)
	}
	wantContains(t, p, "The e-mail or password is wrong.", `value="mugs@shop.test"`)
	if strings.Contains(p.Body, "wrong password") {
		t.Fatal("the password is echoed back")
	}
	// The right one goes on to where the merchant wanted, never off-site.
	p = b.post("/dashboard/login", url.Values{"email": {"MUGS@shop.test"}, "password": {testPassword}, "next": {"/dashboard/links"}})
	if p.Status != http.StatusSeeOther || p.Location != "/dashboard/links" {
		t.Fatalf("log in: %d %q", p.Status, p.Location)
	}
	b2 := newBrowser(env)
	p = b2.post("/dashboard/login", url.Values{"email": {"mugs@shop.test"}, "password": {testPassword}, "next": {"//evil.test/x"}})
	if p.Location != "/dashboard" {
		t.Fatalf("next=//evil.test went to %q", p.Location)
	}
	// A sign-up with a taken e-mail shows the error next to the field.
	p = newBrowser(env).post("/dashboard/signup", url.Values{"name": {"Other"}, "email": {"mugs@shop.test"}, "password": {testPassword}})
	if p.Status != http.StatusConflict {
		t.Fatalf("taken e-mail: %d", p.Status)
	}
	wantContains(t, p, `id="email-error"`, "A merchant with this email already exists.")
}

// Sessions end after 30 minutes idle and after 12 hours whatever the use;
// log-out everywhere ends every session of the merchant.
func TestSessionExpiryAndLogOutEverywhere(t *testing.T) {
	env := apitest.New(t)
	a := newBrowser(env)
	a.signUp("idle@shop.test")
	env.Clock.Advance(29 * time.Minute)
	if p := a.get("/dashboard"); p.Status != http.StatusOK {
		t.Fatalf("after 29 min: %d", p.Status)
	}
	env.Clock.Advance(31 * time.Minute)
	wantLoginRedirect(t, a.get("/dashboard"))

	a.login("idle@shop.test")
	for i := 0; i < 26; i++ { // used every 29 minutes: never idle, but 12 h is the end
		env.Clock.Advance(29 * time.Minute)
		p := a.get("/dashboard")
		if i < 24 && p.Status != http.StatusOK {
			t.Fatalf("after %d×29 min: %d", i+1, p.Status)
		}
		if i == 25 {
			wantLoginRedirect(t, p)
		}
	}

	a.login("idle@shop.test")
	other := newBrowser(env)
	other.login("idle@shop.test")
	if p := a.post("/dashboard/logout", url.Values{"everywhere": {"1"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("log out everywhere: %d", p.Status)
	}
	wantLoginRedirect(t, other.get("/dashboard"))
	wantLoginRedirect(t, a.get("/dashboard"))
}

// Forms from another site, or from a sandboxed frame, are refused before
// anything happens; our own page's, and a client that is no browser
// (neither Origin nor Sec-Fetch-Site), are accepted.
func TestCrossSiteFormsAreRefused(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("csrf@shop.test")
	a := newBrowser(env)
	a.login("csrf@shop.test")
	pay := env.Paid(creds, 1000)

	for name, set := range map[string]func(*http.Request){
		"other origin":   func(r *http.Request) { r.Header.Set("Origin", "https://evil.test") },
		"null, no fetch": func(r *http.Request) { r.Header.Set("Origin", "null") },
		"cross-site":     func(r *http.Request) { r.Header.Set("Origin", "null"); r.Header.Set("Sec-Fetch-Site", "cross-site") },
		"same origin, cross-site fetch": func(r *http.Request) {
			r.Header.Set("Origin", apitest.Origin)
			r.Header.Set("Sec-Fetch-Site", "same-site")
		},
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", env.Base+"/dashboard/payments/"+pay.ID+"/refund",
				strings.NewReader("idempotency_key=k-"+randomSuffix()+"&amount=1.00"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			set(req)
			p := a.do(req)
			if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "origin_not_allowed") {
				t.Fatalf("got %d %s", p.Status, p.Body)
			}
		})
	}
	// The same form from our own page (Origin: null under no-referrer,
	// Sec-Fetch-Site: same-origin) is accepted.
	req, _ := http.NewRequest("POST", env.Base+"/dashboard/payments/"+pay.ID+"/refund",
		strings.NewReader("idempotency_key=k-"+randomSuffix()+"&amount=1.00"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "null")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if p := a.do(req); p.Status != http.StatusSeeOther {
		t.Fatalf("same-origin refund: %d %s", p.Status, p.Body)
	}
	req, _ = http.NewRequest("POST", env.Base+"/dashboard/payments/"+pay.ID+"/refund",
		strings.NewReader("idempotency_key=k-"+randomSuffix()+"&amount=1.00"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p := a.do(req); p.Status != http.StatusSeeOther {
		t.Fatalf("refund from a client without Origin: %d %s", p.Status, p.Body)
	}
	if n := env.Count(`SELECT count(*) FROM refunds`); n != 2 {
		t.Fatalf("%d refunds, want the two accepted; the refused forms must change nothing", n)
	}
	// Sign-up and log-in forms follow the same rule.
	evil := newBrowser(env)
	evil.origin = "https://evil.test"
	if p := evil.post("/dashboard/login", url.Values{"email": {"csrf@shop.test"}, "password": {testPassword}}); p.Status != http.StatusForbidden {
		t.Fatalf("cross-site log-in: %d", p.Status)
	}
}

// After 10 wrong passwords the e-mail is locked: even the right password
// is refused, 429 with Retry-After, and concurrent guesses cannot run
// more than 10 checks.
func TestLogInLockOut(t *testing.T) {
	env := apitest.New(t)
	newBrowser(env).signUp("locked@shop.test")
	var wg sync.WaitGroup
	statuses := make(chan int, 14)
	for i := 0; i < 14; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- newBrowser(env).post("/dashboard/login", url.Values{"email": {"locked@shop.test"}, "password": {"wrong guess 123"}}).Status
		}()
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	if counts[http.StatusUnauthorized] != 10 || counts[http.StatusTooManyRequests] != 4 {
		t.Fatalf("statuses %v; want 10×401 and 4×429", counts)
	}
	p := newBrowser(env).post("/dashboard/login", url.Values{"email": {"locked@shop.test"}, "password": {testPassword}})
	if p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" {
		t.Fatalf("right password while locked: %d Retry-After %q", p.Status, p.Header.Get("Retry-After"))
	}
	wantContains(t, p, "Too many failed log-ins. Try again in 15 minutes.")
	if env.Count(`SELECT count(*) FROM auth_attempts WHERE subject = 'merchant:locked@shop.test'`) != 1 {
		t.Fatal("the lock-out subject is not merchant:<e-mail>")
	}
	env.Clock.Advance(16 * time.Minute)
	newBrowser(env).login("locked@shop.test")
}

// Behind https the session cookie is Secure and __Host- prefixed.
func TestSessionCookieBehindHTTPS(t *testing.T) {
	env := apitest.New(t, func(d *httpapi.Deps) { d.BaseURL, _ = url.Parse("https://paylink.test") })
	b := newBrowser(env)
	b.origin = "https://paylink.test"
	p := b.post("/dashboard/signup", url.Values{"name": {"Secure Shop"}, "email": {"secure@shop.test"}, "password": {testPassword}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("sign up: %d %s", p.Status, p.Body)
	}
	cookie := p.Header.Get("Set-Cookie")
	for _, want := range []string{"__Host-paylink_dashboard=", "Secure", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(cookie, "Domain=") {
		t.Errorf("cookie %q names a domain", cookie)
	}
	// The http origin of the same host is another origin.
	b.origin = "http://paylink.test"
	if p := b.post("/dashboard/login", url.Values{"email": {"secure@shop.test"}, "password": {testPassword}}); p.Status != http.StatusForbidden {
		t.Fatalf("http origin: %d", p.Status)
	}
}
