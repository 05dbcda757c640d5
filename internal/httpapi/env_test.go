package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/ulule/limiter/v3"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/redistest"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/webhook"
)

// testKeys is the master keyring of every HTTP test.
const testKeys = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// env is one test's server, wired to real services, a database of its own
// and a Redis database of its own.
type env struct {
	t     *testing.T
	db    *postgres.DB
	srv   *Server
	usage *merchant.Usage
	logs  *syncBuffer
	base  string // httptest server URL
	deps  Deps
	clock *testClock
}

// testClock is the time of the checkout services and the server: real
// time plus an offset a test may move forward.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Test secrets of the link signer and the card simulator.
var (
	testLinkKey      = links.SigningKey{ID: "t1", Secret: bytes.Repeat([]byte{0x5a}, 32)}
	testSimulatorKey = bytes.Repeat([]byte{0x3c}, 32)
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newEnv builds the server; edit may change its Deps first.
func newEnv(t *testing.T, edit ...func(*Deps)) *env {
	t.Helper()
	db := pgtest.New(t)
	rdb, _ := redistest.New(t)
	keyring, err := seal.Parse(testKeys)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	usage := merchant.NewUsage()
	base, _ := url.Parse("http://paylink.test")
	merchants := merchant.NewService(keyring, usage, time.Now)
	clock := &testClock{}
	signer, err := links.NewSigner([]links.SigningKey{testLinkKey})
	if err != nil {
		t.Fatal(err)
	}
	linkSvc := links.NewService(signer, base, clock.Now)
	currencies, _ := money.ParseSet(money.DefaultAccepted)
	d := Deps{
		Log:         slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		DB:          db,
		Redis:       rdb,
		Merchants:   merchants,
		Idempotency: idempotency.NewStore(keyring),
		Registry:    prometheus.NewRegistry(),
		Limits: Limits{
			API:    limiter.Rate{Period: time.Minute, Limit: 10000},
			Public: limiter.Rate{Period: time.Minute, Limit: 10000},
		},
		BaseURL: base,
		Now:     clock.Now,
		Webhooks: webhook.NewService(db, webhook.Config{Keyring: keyring, Merchants: merchants, Now: clock.Now,
			Guard: &webhook.Guard{Resolver: testResolver}, Timeout: 5 * time.Second,
			Schedule: []time.Duration{time.Second}, DisableAfter: 72 * time.Hour}),

		Links:      linkSvc,
		Checkout:   checkout.NewService(processor.NewSimulator(testSimulatorKey, clock.Now), linkSvc, clock.Now),
		Currencies: currencies,
		Forms:      forms.NewService(base, clock.Now),
	}
	walletDeps(t, &d, db, rdb, keyring)
	e := &env{t: t, db: db, usage: usage, logs: logs, clock: clock}
	e.srv, e.base = e.start(d, edit...)
	return e
}

// start serves a Server built from d after edits.
func (e *env) start(d Deps, edit ...func(*Deps)) (*Server, string) {
	e.t.Helper()
	for _, f := range edit {
		f(&d)
	}
	e.deps = d
	srv, err := New(d)
	if err != nil {
		e.t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	e.t.Cleanup(ts.Close)
	return srv, ts.URL
}

// replica is a second API server on the same PostgreSQL and Redis, as
// another replica behind the load balancer.
func (e *env) replica(edit ...func(*Deps)) *env {
	r := *e
	d := e.deps
	d.Registry = prometheus.NewRegistry()
	r.srv, r.base = e.start(d, edit...)
	return &r
}

// response is a finished HTTP exchange.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// errorCode returns error.code of an error body, or "".
func (r response) errorCode() string {
	var b edge.ErrorBody
	_ = json.Unmarshal(r.Body, &b)
	return b.Error.Code
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// creds is an API key pair.
type creds struct{ id, secret string }

// req describes one request; Body may be a string (sent as is) or a value
// (JSON-encoded).
type req struct {
	Method, Path string
	Body         any
	Auth         *creds
	Header       map[string]string
}

func (e *env) do(r req) response {
	e.t.Helper()
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	hr, err := http.NewRequest(r.Method, e.base+r.Path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if r.Auth != nil {
		hr.SetBasicAuth(r.Auth.id, r.Auth.secret)
	}
	for k, v := range r.Header {
		hr.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// signUp creates a merchant and returns its id and first key pair.
func (e *env) signUp(email string) (string, creds) {
	e.t.Helper()
	res := e.do(req{Method: "POST", Path: "/v1/merchants",
		Body: map[string]string{"name": "Shop " + email, "email": email, "password": "correct horse battery"}})
	if res.Status != http.StatusCreated {
		e.t.Fatalf("sign up %s: %d %s", email, res.Status, res.Body)
	}
	var out signUpResponse
	res.decode(e.t, &out)
	return out.Merchant.ID, creds{out.APIKey.ID, out.APIKey.Secret}
}

// wantError fails unless res has status and error code.
func wantError(t *testing.T, res response, status int, code string) {
	t.Helper()
	if res.Status != status || res.errorCode() != code {
		t.Fatalf("got %d %s; want %d with code %q", res.Status, res.Body, status, code)
	}
	var b edge.ErrorBody
	res.decode(t, &b)
	if b.Error.RequestID == "" || b.Error.RequestID != res.Header.Get("X-Request-Id") {
		t.Errorf("request_id %q does not match X-Request-Id %q", b.Error.RequestID, res.Header.Get("X-Request-Id"))
	}
	if want := wantType(status, code); b.Error.Type != want {
		t.Errorf("error type = %q, want %q", b.Error.Type, want)
	}
}

// wantType is API.md's table of error types, written out independently of
// the implementation's.
func wantType(status int, code string) string {
	if strings.HasPrefix(code, "idempotency_key_") && (status == 409 || status == 422) {
		return "idempotency_error"
	}
	switch status {
	case 401:
		return "authentication_error"
	case 402:
		return "card_error"
	case 403:
		return "permission_error"
	case 429:
		return "rate_limit_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

func basic(c creds) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.id+":"+c.secret))
}
