package walletapp_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/wire"
)

func TestWalletSignUp(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.NewShopper()
	body := apitest.SignUpBody(" Ada@Example.TEST ")
	body["phone"] = "+1 (415) 555-0123"
	res := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/signup", Body: body})
	if res.Status != http.StatusCreated {
		t.Fatalf("sign up: %d %s", res.Status, res.Body)
	}
	var out userAnswer
	res.Decode(t, &out)
	u := out.User
	if !strings.HasPrefix(u.ID, "usr_") || u.Email != "ada@example.test" || u.FirstName != "Ada" || u.MiddleName != "King" ||
		u.LastName != "Lovelace" || u.Phone != "+14155550123" || u.HasPasskey || u.CreatedAt == "" {
		t.Errorf("user = %+v; want usr_ id, lower-case e-mail, E.164 phone", u)
	}
	if strings.Contains(string(res.Body), "password") || strings.Contains(string(res.Body), apitest.WalletPassword) {
		t.Errorf("sign-up answer mentions the password: %s", res.Body)
	}
	var hash string
	if err := e.DB.Pool.QueryRow(context.Background(), "SELECT password_hash FROM users WHERE id = $1", u.ID).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, apitest.WalletPassword) {
		t.Errorf("stored password = %q; want an Argon2id hash", hash)
	}
	// Sign-up does not log in.
	apitest.WantError(t, s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}), 401, "login_required")

	dup := apitest.SignUpBody("ADA@example.test")
	apitest.WantError(t, s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/signup", Body: dup}), 409, "email_taken")
	if n := e.Count("SELECT count(*) FROM users"); n != 1 {
		t.Errorf("users = %d after a duplicate sign-up, want 1", n)
	}
}

func TestWalletSignUpRejectsBadInput(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.NewShopper()
	with := func(k, v string) map[string]string {
		b := apitest.SignUpBody("bad@example.test")
		b[k] = v
		return b
	}
	tests := []struct {
		name        string
		body        any
		code, param string
	}{
		{"bad email", with("email", "not-an-email"), "email_invalid", "email"},
		{"display-name email", with("email", "Ada <ada@example.test>"), "email_invalid", "email"},
		{"short password", with("password", "123456789"), "password_too_short", "password"},
		{"long password", with("password", strings.Repeat("p", 257)), "password_too_long", "password"},
		{"no first name", with("first_name", "  "), "name_invalid", "first_name"},
		{"long last name", with("last_name", strings.Repeat("x", 101)), "name_invalid", "last_name"},
		{"control char in middle name", with("middle_name", "a\u0000b"), "name_invalid", "middle_name"},
		{"phone without country code", with("phone", "415 555 0123"), "phone_invalid", "phone"},
		{"phone too short", with("phone", "+1 234"), "phone_invalid", "phone"},
		{"phone with letters", with("phone", "+1 415 CALL NOW"), "phone_invalid", "phone"},
		{"phone leading zero", with("phone", "+0 415 555 0123"), "phone_invalid", "phone"},
		{"unknown field", `{"email":"a@b.test","password":"0123456789","first_name":"A","last_name":"B","phone":"+14155550123","admin":true}`, "unknown_parameter", "admin"},
		{"wrong type", `{"email":"a@b.test","password":"0123456789","first_name":"A","last_name":"B","phone":14155550123}`, "parameter_invalid", "phone"},
		{"malformed", `{"email":`, "invalid_json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/signup", Body: tt.body})
			apitest.WantError(t, res, 400, tt.code)
			var b edge.ErrorBody
			res.Decode(t, &b)
			if b.Error.Param != tt.param {
				t.Errorf("param = %q, want %q", b.Error.Param, tt.param)
			}
		})
	}
	if n := e.Count("SELECT count(*) FROM users"); n != 0 {
		t.Errorf("users = %d after only bad sign-ups, want 0", n)
	}
}

func TestWalletLoginSetsSessionCookie(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("cookie@example.test")
	anon := e.NewShopper()
	res := anon.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login", Body: map[string]string{"email": "Cookie@Example.test", "password": apitest.WalletPassword}})
	if res.Status != 200 {
		t.Fatalf("log in: %d %s", res.Status, res.Body)
	}
	cookies := (&http.Response{Header: res.Header}).Cookies()
	if len(cookies) != 1 {
		t.Fatalf("Set-Cookie = %v, want one session cookie", res.Header.Values("Set-Cookie"))
	}
	c := cookies[0]
	if c.Name != "paylink_session" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/" {
		t.Errorf("cookie = %+v; want HttpOnly, SameSite=Lax, not Secure over http, path /", c)
	}
	if c.MaxAge <= 0 || c.MaxAge > 3600 {
		t.Errorf("cookie Max-Age = %d, want the session's hour", c.MaxAge)
	}
	if strings.Contains(c.Value, "cookie@example.test") {
		t.Error("the session token carries the e-mail")
	}
	me := s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"})
	var out userAnswer
	me.Decode(t, &out)
	if me.Status != 200 || out.User.Email != "cookie@example.test" {
		t.Fatalf("GET /me = %d %s", me.Status, me.Body)
	}
	// The token is not stored: only the session id is.
	if n := e.Count("SELECT count(*) FROM user_sessions WHERE id = $1", strings.SplitN(c.Value, ".", 2)[0]); n != 1 {
		t.Errorf("session row for the cookie's id: %d, want 1", n)
	}
	apitest.WantError(t, anon.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login", Body: `{"email":"x@y.test","password":"0123456789","remember":true}`}),
		400, "unknown_parameter")
}

func TestWalletCookieIsSecureBehindHTTPS(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, func(d *httpapi.Deps) { d.BaseURL, _ = url.Parse("https://paylink.test") })
	s := e.NewShopper()
	s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/signup", Body: apitest.SignUpBody("tls@example.test")})
	res := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login", Body: map[string]string{"email": "tls@example.test", "password": apitest.WalletPassword}})
	cookies := (&http.Response{Header: res.Header}).Cookies()
	if res.Status != 200 || len(cookies) != 1 || cookies[0].Name != "__Host-paylink_session" || !cookies[0].Secure ||
		!cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("log in behind https: %d cookies %v", res.Status, res.Header.Values("Set-Cookie"))
	}
}

func TestWalletLoginDoesNotRevealWhetherEmailExists(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	e.WalletUser("known@example.test")
	s := e.NewShopper()
	wrong := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login", Body: map[string]string{"email": "known@example.test", "password": "wrong password!"}})
	unknown := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login", Body: map[string]string{"email": "nobody@example.test", "password": "wrong password!"}})
	apitest.WantError(t, wrong, 401, "invalid_credentials")
	apitest.WantError(t, unknown, 401, "invalid_credentials")
	var a, b edge.ErrorBody
	wrong.Decode(t, &a)
	unknown.Decode(t, &b)
	a.Error.RequestID, b.Error.RequestID = "", ""
	if a != b {
		t.Errorf("answers differ:\n%+v\n%+v", a, b)
	}
	if len((&http.Response{Header: wrong.Header}).Cookies()) != 0 {
		t.Error("a failed log-in set a cookie")
	}
}

func TestWalletLockoutAfterRepeatedFailures(t *testing.T) {
	t.Parallel()
	clock := &apitest.Clock{}
	e := apitest.New(t, func(d *httpapi.Deps) {
		d.Wallet = wallet.NewService(d.DB, d.Redis, apitest.Keyring(t), wallet.Config{SessionTTL: time.Hour, MaxFailures: 10,
			Lockout: 15 * time.Minute, Passwords: d.Passwords}, clock.Now)
	})
	e.WalletUser("victim@example.test")
	s := e.NewShopper()
	attempt := func(email, pw string) apitest.Response {
		return s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login", Body: map[string]string{"email": email, "password": pw}})
	}
	for _, email := range []string{"victim@example.test", "ghost@example.test"} {
		for i := 1; i <= 10; i++ {
			apitest.WantError(t, attempt(email, "wrong password!"), 401, "invalid_credentials")
		}
		// Locked now, even with the right password, and the same for an
		// address nobody has.
		res := attempt(email, apitest.WalletPassword)
		apitest.WantError(t, res, 429, "account_locked")
		if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 15*60+1 {
			t.Errorf("%s: Retry-After = %q, want up to 15 minutes", email, res.Header.Get("Retry-After"))
		}
		if len((&http.Response{Header: res.Header}).Cookies()) != 0 {
			t.Errorf("%s: a locked log-in set a cookie", email)
		}
	}
	clock.Advance(15*time.Minute + time.Second)
	if res := attempt("victim@example.test", apitest.WalletPassword); res.Status != 200 {
		t.Fatalf("after the lock-out: %d %s", res.Status, res.Body)
	}
	// A success clears the count: nine more failures do not lock.
	for i := 1; i <= 9; i++ {
		attempt("victim@example.test", "wrong password!")
	}
	if res := attempt("victim@example.test", apitest.WalletPassword); res.Status != 200 {
		t.Fatalf("nine failures after a success locked the account: %d %s", res.Status, res.Body)
	}
}

func TestWalletConcurrentFailuresCannotLiftALock(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	e.WalletUser("burst@example.test")
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ { // more than the 10 that lock, at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.NewShopper().Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login",
				Body: map[string]string{"email": "burst@example.test", "password": "wrong password!"}})
		}()
	}
	wg.Wait()
	res := e.NewShopper().Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login",
		Body: map[string]string{"email": "burst@example.test", "password": apitest.WalletPassword}})
	apitest.WantError(t, res, 429, "account_locked")
}

func TestWalletLoginRateLimitedPerIPAndEmail(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, func(d *httpapi.Deps) { d.Limits.Login = limiter.Rate{Period: time.Hour, Limit: 3} })
	e.WalletUser("limited@example.test") // one attempt, successful
	s := e.NewShopper()
	for i := 0; i < 2; i++ {
		res := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login", Body: map[string]string{"email": "limited@example.test", "password": "nope nope nope"}})
		apitest.WantError(t, res, 401, "invalid_credentials")
		if res.Header.Get("X-RateLimit-Limit") != "3" || res.Header.Get("X-RateLimit-Remaining") != strconv.Itoa(1-i) {
			t.Errorf("attempt %d: X-RateLimit-Limit %q Remaining %q", i+2, res.Header.Get("X-RateLimit-Limit"), res.Header.Get("X-RateLimit-Remaining"))
		}
	}
	res := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login", Body: map[string]string{"email": "LIMITED@example.test", "password": apitest.WalletPassword}})
	apitest.WantError(t, res, 429, "rate_limited")
	if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After = %q", res.Header.Get("Retry-After"))
	}
	// Another e-mail from the same IP is counted apart.
	res = s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login", Body: map[string]string{"email": "other@example.test", "password": apitest.WalletPassword}})
	apitest.WantError(t, res, 401, "invalid_credentials")
}

func TestWalletLogoutTakesEffectOnAnotherReplica(t *testing.T) {
	t.Parallel()
	a := apitest.New(t)
	b := a.Replica()
	s := a.WalletUser("replicas@example.test")
	if res := s.On(b).Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}); res.Status != 200 {
		t.Fatalf("replica B before log-out: %d %s", res.Status, res.Body)
	}
	token := sessionToken(t, s, a)
	res := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/logout"})
	if res.Status != 200 {
		t.Fatalf("log out: %d %s", res.Status, res.Body)
	}
	if c := (&http.Response{Header: res.Header}).Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Errorf("log-out did not clear the cookie: %v", res.Header.Values("Set-Cookie"))
	}
	// The browser dropped its cookie; an attacker who copied it did not.
	stolen := b.NewShopper()
	stolen.Client.Jar.SetCookies(mustURL(t, b.Base), []*http.Cookie{{Name: "paylink_session", Value: token}})
	apitest.WantError(t, stolen.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}), 401, "login_required")
	// Even with the cache gone, PostgreSQL remembers the revocation.
	if err := b.Deps.Redis.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	apitest.WantError(t, stolen.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}), 401, "login_required")
	apitest.WantError(t, stolen.On(a).Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}), 401, "login_required")
}

func TestWalletSessionSurvivesLosingTheCache(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("flush@example.test")
	if res := s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}); res.Status != 200 {
		t.Fatalf("me: %d", res.Status)
	}
	token := sessionToken(t, s, e)
	sid := strings.SplitN(token, ".", 2)[0]
	ttl, err := e.Deps.Redis.TTL(context.Background(), "paylink:wallet:session:"+sid).Result()
	if err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("cached session TTL = %v, %v; want the token's remaining hour", ttl, err)
	}
	if err := e.Deps.Redis.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if res := s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}); res.Status != 200 {
		t.Fatalf("after FLUSHDB the user was logged out: %d %s", res.Status, res.Body)
	}
}

func TestWalletSessionsWithoutRedis(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("noredis@example.test")
	// Redis goes away: nobody is logged in or out wrongly.
	if err := e.Deps.Redis.Close(); err != nil {
		t.Fatal(err)
	}
	if res := s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}); res.Status != 200 {
		t.Fatalf("without Redis a live session failed: %d %s", res.Status, res.Body)
	}
	token := sessionToken(t, s, e)
	res := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/logout"})
	apitest.WantError(t, res, 503, "session_store_unavailable")
	if len((&http.Response{Header: res.Header}).Cookies()) != 0 {
		t.Error("a log-out that must be retried cleared the cookie")
	}
	stolen := e.NewShopper()
	stolen.Client.Jar.SetCookies(mustURL(t, e.Base), []*http.Cookie{{Name: "paylink_session", Value: token}})
	apitest.WantError(t, stolen.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}), 401, "login_required")
}

func TestWalletRejectsForgedAndExpiredTokens(t *testing.T) {
	t.Parallel()
	clock := &apitest.Clock{}
	e := apitest.New(t, func(d *httpapi.Deps) {
		d.Wallet = wallet.NewService(d.DB, d.Redis, apitest.Keyring(t), wallet.Config{SessionTTL: time.Hour, MaxFailures: 10,
			Lockout: time.Minute, Passwords: d.Passwords}, clock.Now)
	})
	s := e.WalletUser("forge@example.test")
	token := sessionToken(t, s, e)
	parts := strings.Split(token, ".")
	later := strconv.FormatInt(time.Now().Add(24*time.Hour).Unix(), 10)
	for name, forged := range map[string]string{
		"garbage":          "nonsense",
		"extended expiry":  parts[0] + "." + later + "." + parts[2] + "." + parts[3],
		"other session id": "ses_01jd0000000000000000000000." + parts[1] + "." + parts[2] + "." + parts[3],
		"no mac":           parts[0] + "." + parts[1],
	} {
		t.Run(name, func(t *testing.T) {
			f := e.NewShopper()
			f.Client.Jar.SetCookies(mustURL(t, e.Base), []*http.Cookie{{Name: "paylink_session", Value: forged}})
			apitest.WantError(t, f.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}), 401, "login_required")
		})
	}
	clock.Advance(time.Hour + time.Second)
	apitest.WantError(t, s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}), 401, "login_required")
}

func TestWalletCSRFChecks(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("csrf@example.test")
	res := s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/logout", Header: map[string]string{"Origin": "https://evil.test"}})
	apitest.WantError(t, res, 403, "origin_not_allowed")
	if me := s.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}); me.Status != 200 {
		t.Fatalf("a refused cross-site log-out logged the user out: %d", me.Status)
	}
	res = s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/logout", Header: map[string]string{"Content-Type": "text/plain"}})
	apitest.WantError(t, res, 400, "content_type_invalid")
	res = s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/logout", Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	apitest.WantError(t, res, 400, "content_type_invalid")
	// Our own origin, with a charset parameter, is fine.
	res = s.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/logout",
		Header: map[string]string{"Origin": apitest.Origin, "Content-Type": "application/json; charset=utf-8"}})
	if res.Status != 200 {
		t.Fatalf("same-origin log-out: %d %s", res.Status, res.Body)
	}
	// Log-in itself is protected too (log-in CSRF).
	res = e.NewShopper().Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login", Header: map[string]string{"Origin": "null"},
		Body: map[string]string{"email": "csrf@example.test", "password": apitest.WalletPassword}})
	apitest.WantError(t, res, 403, "origin_not_allowed")
}

// sessionToken returns the session cookie s holds for e.
func sessionToken(t *testing.T, s *apitest.Shopper, e *apitest.Env) string {
	t.Helper()
	for _, c := range s.Client.Jar.Cookies(mustURL(t, e.Base)) {
		if c.Name == "paylink_session" {
			return c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// userAnswer is the wallet's answer of sign-up and log-in.
type userAnswer struct {
	User wire.User `json:"user"`
}
