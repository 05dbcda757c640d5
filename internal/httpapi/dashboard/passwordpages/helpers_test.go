package passwordpages_test

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
)

const (
	testPassword = "correct horse battery"
	newPassword  = "staple battery horse"
)

// browser is a merchant's browser on the dashboard: a cookie jar, forms
// sent with this site's Origin (its BaseURL's), redirects not followed.
type browser struct {
	t      *testing.T
	env    *apitest.Env
	client *http.Client
}

func newBrowser(env *apitest.Env) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: env.T, env: env, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) send(method, path string, body io.Reader) apitest.Response {
	b.t.Helper()
	req, err := http.NewRequest(method, b.env.Base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.env.Deps.BaseURL.Scheme+"://"+b.env.Deps.BaseURL.Host)
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return apitest.Response{Status: res.StatusCode, Header: res.Header, Body: out}
}

func (b *browser) get(path string) apitest.Response {
	b.t.Helper()
	return b.send("GET", path, nil)
}

// form posts a form with a fresh idempotency_key, as a rendered form has.
func (b *browser) form(path string, form url.Values) apitest.Response {
	b.t.Helper()
	k := make([]byte, 8)
	_, _ = rand.Read(k)
	form.Set("idempotency_key", "test-"+hex.EncodeToString(k))
	return b.send("POST", path, strings.NewReader(form.Encode()))
}

// signUp creates a merchant through the dashboard, leaving b logged in,
// and returns its id.
func (b *browser) signUp(email string) string {
	b.t.Helper()
	if p := b.form("/dashboard/signup", url.Values{"name": {apitest.ShopName(email)}, "email": {email}, "password": {testPassword}}); p.Status != http.StatusSeeOther {
		b.t.Fatalf("sign up %s: %d %s", email, p.Status, p.Body)
	}
	var id string
	if err := b.env.DB.Pool.QueryRow(b.t.Context(), `SELECT id FROM merchants WHERE email = $1`, email).Scan(&id); err != nil {
		b.t.Fatal(err)
	}
	return id
}

// logIn logs b in and returns the answer (303 when it worked).
func (b *browser) logIn(email, password string) apitest.Response {
	b.t.Helper()
	return b.form("/dashboard/login", url.Values{"email": {email}, "password": {password}})
}

// loggedIn says whether b's session is live.
func (b *browser) loggedIn() bool {
	b.t.Helper()
	switch res := b.get("/dashboard/settings"); res.Status {
	case http.StatusOK:
		return true
	case http.StatusSeeOther:
		return false
	default:
		b.t.Fatalf("GET /dashboard/settings: %d", res.Status)
		return false
	}
}

func wantBody(t *testing.T, res apitest.Response, status int, parts ...string) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("answer %d, want %d:\n%s", res.Status, status, res.Body)
	}
	for _, p := range parts {
		if !strings.Contains(string(res.Body), p) {
			t.Fatalf("answer (%d) lacks %q:\n%s", res.Status, p, res.Body)
		}
	}
}

// email is one queued e-mail.
type email struct{ To, Subject, Body string }

// mails are the e-mails queued so far to to, oldest first, the sealed
// ones (reset links) opened.
func mails(t *testing.T, env *apitest.Env, to string) []email {
	t.Helper()
	rows, err := env.DB.Pool.Query(t.Context(), `SELECT id, to_addr, subject, body, body_sealed FROM emails WHERE to_addr = $1 ORDER BY created_at, id`, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []email
	for rows.Next() {
		var (
			m      email
			id     string
			sealed []byte
		)
		if err := rows.Scan(&id, &m.To, &m.Subject, &m.Body, &sealed); err != nil {
			t.Fatal(err)
		}
		if tokenInLink.MatchString(m.Body) {
			t.Fatalf("e-mail %s holds a reset link in the clear", id)
		}
		if sealed != nil {
			if m.Body != "" {
				t.Fatalf("e-mail %s is sealed and also in the clear", id)
			}
			text, err := env.Keys.Open(sealed, []byte(id))
			if err != nil {
				t.Fatal(err)
			}
			m.Body = string(text)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var tokenInLink = regexp.MustCompile(`/dashboard/password/reset\?token=([A-Za-z0-9_-]+)`)

// resetToken is the token of the link in a reset e-mail.
func resetToken(t *testing.T, m email) string {
	t.Helper()
	match := tokenInLink.FindStringSubmatch(m.Body)
	if m.Subject != "Reset your Paylink dashboard password" || match == nil {
		t.Fatalf("not a reset e-mail: %+v", m)
	}
	return match[1]
}

// passwordHash is the merchant's stored hash.
func passwordHash(t *testing.T, env *apitest.Env, merchantID string) string {
	t.Helper()
	var h string
	if err := env.DB.Pool.QueryRow(t.Context(), `SELECT password_hash FROM merchants WHERE id = $1`, merchantID).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}
