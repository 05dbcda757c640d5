package passkeypages_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/passkey/passkeytest"
)

const testPassword = "correct horse battery"

// browser is a merchant's browser on the dashboard: a cookie jar, forms
// and the pages' JSON sent with this site's Origin, redirects not
// followed.
type browser struct {
	t      *testing.T
	env    *apitest.Env
	client *http.Client
	origin string
}

func newBrowser(env *apitest.Env) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: env.T, env: env, origin: apitest.Origin, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) send(method, path, contentType string, body io.Reader) apitest.Response {
	b.t.Helper()
	req, err := http.NewRequest(method, b.env.Base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Origin", b.origin)
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
	return b.send("GET", path, "", nil)
}

// form posts a form with a fresh idempotency_key, as a rendered form has.
func (b *browser) form(path string, form url.Values) apitest.Response {
	b.t.Helper()
	k := make([]byte, 8)
	_, _ = rand.Read(k)
	form.Set("idempotency_key", "test-"+hex.EncodeToString(k))
	return b.send("POST", path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

// json posts body as the pages' script does.
func (b *browser) json(path string, body any) apitest.Response {
	b.t.Helper()
	j, err := json.Marshal(body)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.send("POST", path, "application/json", bytes.NewReader(j))
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

// register adds a passkey of auth after re-entering the password, and
// returns its id.
func (b *browser) register(auth *passkeytest.Authenticator, name string) string {
	b.t.Helper()
	opts := b.json("/dashboard/settings/passkeys/register/begin", map[string]string{"password": testPassword})
	if opts.Status != http.StatusOK {
		b.t.Fatalf("register/begin: %d %s", opts.Status, opts.Body)
	}
	return b.finish(auth, opts, name)
}

// finish creates the credential the options ask for and stores it.
func (b *browser) finish(auth *passkeytest.Authenticator, opts apitest.Response, name string) string {
	b.t.Helper()
	cred, err := auth.Create(opts.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	res := b.json("/dashboard/settings/passkeys/register/finish", map[string]any{"name": name, "credential": json.RawMessage(cred)})
	if res.Status != http.StatusCreated {
		b.t.Fatalf("register/finish: %d %s", res.Status, res.Body)
	}
	var p struct{ ID string }
	res.Decode(b.t, &p)
	return p.ID
}

// assert answers a challenge from begin (a JSON route) with auth.
func (b *browser) assert(auth *passkeytest.Authenticator, begin string, body any) json.RawMessage {
	b.t.Helper()
	opts := b.json(begin, body)
	if opts.Status != http.StatusOK {
		b.t.Fatalf("%s: %d %s", begin, opts.Status, opts.Body)
	}
	a, err := auth.Get(opts.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return a
}

// passkeyLogIn logs b in with auth's passkey and returns the answer.
func (b *browser) passkeyLogIn(auth *passkeytest.Authenticator) apitest.Response {
	b.t.Helper()
	a := b.assert(auth, "/dashboard/login/passkey/begin", map[string]any{})
	return b.json("/dashboard/login/passkey/finish", map[string]any{"credential": a, "next": "/dashboard/payments"})
}

func wantBody(t *testing.T, res apitest.Response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(string(res.Body), p) {
			t.Fatalf("answer (%d) lacks %q:\n%s", res.Status, p, res.Body)
		}
	}
}
