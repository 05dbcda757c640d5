// Package apitest runs a real Paylink HTTP server for the HTTP tests of
// every audience: the whole router (package httpapi) wired to real
// services, on a database and a Redis database of the test's own, with
// helpers to act as a merchant's backend (API key pair), a shopper (the
// checkout's JSON) and a wallet user (a cookie jar). Only tests import it.
package apitest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/ulule/limiter/v3"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/merchantauth"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/redistest"
	"github.com/paylink/paylink/internal/returnurl"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/testclock"
	"github.com/paylink/paylink/internal/webhook"
	"github.com/paylink/paylink/internal/wire"
)

// TestKeys is the master keyring of every HTTP test.
const TestKeys = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// Env is one test's server, wired to real services, a database of its own
// and a Redis database of its own.
type Env struct {
	T      *testing.T
	DB     *postgres.DB
	Server *httpapi.Server
	Usage  *merchant.Usage // API keys' last use, flushed by the test
	Logs   *SyncBuffer     // the server's log lines (JSON)
	Base   string          // the server's URL
	Deps   httpapi.Deps    // what the server was built from
	Clock  *Clock          // the time of the server and the checkout
	Keys   *seal.Keyring   // the server's encryption keys (TestKeys)
}

// Clock is the time of the checkout services and the server: real
// time plus an offset a test may move forward.
type Clock = testclock.Offset

// Test secrets of the link signer and the card simulator.
var (
	TestLinkKey      = links.SigningKey{ID: "t1", Secret: bytes.Repeat([]byte{0x5a}, 32)}
	TestSimulatorKey = bytes.Repeat([]byte{0x3c}, 32)
)

// TestReturnKey is the Ed25519 key signing shoppers' returns in every
// HTTP test.
var TestReturnKey = returnurl.Key{ID: "t1", Private: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x71}, ed25519.SeedSize))}

// TestReturns is the signer of shoppers' returns of the HTTP tests.
func TestReturns(now func() time.Time) *returnurl.Signer {
	s, err := returnurl.NewSigner([]returnurl.Key{TestReturnKey}, now)
	if err != nil {
		panic(err)
	}
	return s
}

// SyncBuffer is a log writer safe for concurrent use.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// New builds and serves the server; edit may change its Deps first.
func New(t *testing.T, edit ...func(*httpapi.Deps)) *Env {
	t.Helper()
	db := pgtest.New(t)
	rdb, _ := redistest.New(t)
	keyring, err := seal.Parse(TestKeys)
	if err != nil {
		t.Fatal(err)
	}
	logs := &SyncBuffer{}
	usage := merchant.NewUsage()
	base, _ := url.Parse("http://paylink.test")
	clock := &Clock{}
	merchants := merchant.NewService(keyring, usage, clock.Now)
	signer, err := links.NewSigner([]links.SigningKey{TestLinkKey})
	if err != nil {
		t.Fatal(err)
	}
	linkSvc := links.NewService(signer, base, clock.Now)
	currencies, _ := money.ParseSet(money.DefaultAccepted)
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sim := processor.NewSimulator(TestSimulatorKey, processor.NewRedisKeys(rdb), clock.Now)
	d := httpapi.Deps{
		Log:         log,
		DB:          db,
		Redis:       rdb,
		Merchants:   merchants,
		Keys:        keyring,
		Idempotency: idempotency.NewStore(keyring),
		Registry:    prometheus.NewRegistry(),
		Limits: httpapi.Limits{
			API:          limiter.Rate{Period: time.Minute, Limit: 10000},
			Public:       limiter.Rate{Period: time.Minute, Limit: 10000},
			AuthFailures: limiter.Rate{Period: time.Minute, Limit: 10000},
		},
		BaseURL: base,
		Now:     clock.Now,
		Webhooks: webhook.NewService(db, webhook.Config{Keyring: keyring, Now: clock.Now,
			Guard: &webhook.Guard{Resolver: TestResolver}, Timeout: 5 * time.Second}),

		Links:      linkSvc,
		Checkout:   checkout.NewService(sim, linkSvc, clock.Now).WithRisk(risk.NewEngine(db, risk.NewCounters(rdb, "", risk.DefaultThresholds, log), risk.DefaultThresholds, log, clock.Now), sim.Fingerprint),
		Currencies: currencies,
		Forms:      forms.NewService(base, clock.Now),
		Returns:    TestReturns(clock.Now),
		// The production default (PAYLINK_REQUEST_TIMEOUT).
		RequestTimeout: 20 * time.Second,
	}
	walletDeps(t, &d, db, rdb, keyring)
	d.MerchantLogins = merchantauth.New(db, merchantauth.Config{MaxFailures: 10, Lockout: 15 * time.Minute,
		Passwords: d.Passwords, Keys: keyring}, clock.Now)
	e := &Env{T: t, DB: db, Usage: usage, Logs: logs, Clock: clock, Keys: keyring}
	e.Server, e.Base = e.start(d, edit...)
	return e
}

// start serves a Server built from d after edits.
func (e *Env) start(d httpapi.Deps, edit ...func(*httpapi.Deps)) (*httpapi.Server, string) {
	e.T.Helper()
	for _, f := range edit {
		f(&d)
	}
	e.Deps = d
	srv, err := httpapi.New(d)
	if err != nil {
		e.T.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	e.T.Cleanup(ts.Close)
	return srv, ts.URL
}

// Replica is a second API server on the same PostgreSQL and Redis, as
// another replica behind the load balancer.
func (e *Env) Replica(edit ...func(*httpapi.Deps)) *Env {
	r := *e
	d := e.Deps
	d.Registry = prometheus.NewRegistry()
	r.Server, r.Base = e.start(d, edit...)
	return &r
}

// Response is a finished HTTP exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// ErrorCode returns error.code of an error body, or "".
func (r Response) ErrorCode() string {
	var b edge.ErrorBody
	_ = json.Unmarshal(r.Body, &b)
	return b.Error.Code
}

// Decode decodes the JSON body into v, failing the test if it cannot.
func (r Response) Decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Creds is an API key pair.
type Creds struct{ ID, Secret string }

// Req describes one request; Body may be a string (sent as is) or a value
// (JSON-encoded).
type Req struct {
	Method, Path string
	Body         any
	Auth         *Creds
	Header       map[string]string
}

// Do sends r as a merchant's backend would (no cookies, Basic auth when
// r.Auth is set) and returns the answer.
func (e *Env) Do(r Req) Response {
	e.T.Helper()
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	hr, err := http.NewRequest(r.Method, e.Base+r.Path, body)
	if err != nil {
		e.T.Fatal(err)
	}
	if r.Auth != nil {
		hr.SetBasicAuth(r.Auth.ID, r.Auth.Secret)
	}
	for k, v := range r.Header {
		hr.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.T.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// SignUp creates a merchant and returns its id and first key pair.
func (e *Env) SignUp(email string) (string, Creds) {
	e.T.Helper()
	res := e.Do(Req{Method: "POST", Path: "/v1/merchants",
		Body: map[string]string{"name": ShopName(email), "email": email, "password": "correct horse battery"}})
	if res.Status != http.StatusCreated {
		e.T.Fatalf("sign up %s: %d %s", email, res.Status, res.Body)
	}
	var out struct {
		Merchant wire.Merchant `json:"merchant"`
		APIKey   wire.APIKey   `json:"api_key"`
	}
	res.Decode(e.T, &out)
	return out.Merchant.ID, Creds{out.APIKey.ID, out.APIKey.Secret}
}

// ShopName is the name SignUp gives the merchant of email: "Shop " and the
// address's local part ("Shop mugs" for mugs@shop.test), as merchant
// names may not hold e-mail addresses.
func ShopName(email string) string {
	local, _, _ := strings.Cut(email, "@")
	return "Shop " + local
}

// WantError fails unless res has status and error code.
func WantError(t *testing.T, res Response, status int, code string) {
	t.Helper()
	if res.Status != status || res.ErrorCode() != code {
		t.Fatalf("got %d %s; want %d with code %q", res.Status, res.Body, status, code)
	}
	var b edge.ErrorBody
	res.Decode(t, &b)
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

// Basic is the Authorization header of c.
func Basic(c Creds) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.ID+":"+c.Secret))
}

// Resolver is the DNS of the HTTP tests.
type Resolver map[string][]string

// LookupNetIP answers the addresses of host, or a not-found error.
func (r Resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := r[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	out := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		out[i] = netip.MustParseAddr(a)
	}
	return out, nil
}

// TestResolver is the DNS every test server uses for webhook URLs.
var TestResolver = Resolver{
	"hooks.shop.test":    {"93.184.215.14"},
	"private.shop.test":  {"93.184.215.14", "192.168.1.10"},
	"localhost":          {"127.0.0.1", "::1"},
	"metadata.shop.test": {"169.254.169.254"},
}

// ListIDs GETs path (a list) with c's key and returns its ids and
// has_more; it fails t unless the answer is 200.
func ListIDs(t *testing.T, e *Env, c Creds, path string) ([]string, bool) {
	t.Helper()
	res := e.Do(Req{Method: "GET", Path: path, Auth: &c})
	if res.Status != http.StatusOK {
		t.Fatalf("GET %s = %d %s", path, res.Status, res.Body)
	}
	var l struct {
		Data    []struct{ ID string } `json:"data"`
		HasMore bool                  `json:"has_more"`
	}
	res.Decode(t, &l)
	ids := []string{}
	for _, d := range l.Data {
		ids = append(ids, d.ID)
	}
	return ids, l.HasMore
}
