package dashboard_test

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// browser is a merchant's browser on the dashboard: a cookie jar, forms
// sent as a browser sends them (Origin of the site), no redirects
// followed so the tests see them.
type browser struct {
	t      *testing.T
	env    *apitest.Env
	client *http.Client
	origin string // the Origin header of form POSTs; "" sends none
}

func newBrowser(env *apitest.Env) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: env.T, env: env, origin: apitest.Origin, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is an answer: status, Location and body.
type page struct {
	Status   int
	Location string
	Body     string
	Header   http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{Status: res.StatusCode, Location: res.Header.Get("Location"), Body: string(body), Header: res.Header}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.env.Base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends form as a form POST; a form without idempotency_key gets a
// fresh one, as every rendered form has.
func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	if form.Get("idempotency_key") == "" {
		form.Set("idempotency_key", "test-"+strings.ReplaceAll(b.t.Name(), "/", "-")+"-"+randomSuffix())
	}
	req, err := http.NewRequest("POST", b.env.Base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b.origin != "" {
		req.Header.Set("Origin", b.origin)
	}
	return b.do(req)
}

func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

const testPassword = "correct horse battery"

// signUp creates a merchant through the dashboard and leaves b logged
// in; it returns the merchant's e-mail.
func (b *browser) signUp(email string) {
	b.t.Helper()
	p := b.post("/dashboard/signup", url.Values{"name": {apitest.ShopName(email)}, "email": {email}, "password": {testPassword}})
	if p.Status != http.StatusSeeOther || p.Location != "/dashboard" {
		b.t.Fatalf("sign up %s: %d %s %s", email, p.Status, p.Location, p.Body)
	}
}

// login logs b in with email and the test password.
func (b *browser) login(email string) {
	b.t.Helper()
	p := b.post("/dashboard/login", url.Values{"email": {email}, "password": {testPassword}})
	if p.Status != http.StatusSeeOther {
		b.t.Fatalf("log in %s: %d %s", email, p.Status, p.Body)
	}
}

// wantLoginRedirect fails unless p sends the browser to the log-in page.
func wantLoginRedirect(t *testing.T, p page) {
	t.Helper()
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/dashboard/login") {
		t.Fatalf("got %d %q; want a redirect to the log-in page", p.Status, p.Location)
	}
}

func wantContains(t *testing.T, p page, parts ...string) {
	t.Helper()
	for _, s := range parts {
		if !strings.Contains(p.Body, s) {
			t.Fatalf("page (%d) lacks %q:\n%s", p.Status, s, p.Body)
		}
	}
}
