package edge

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/ulule/limiter/v3"

	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/redistest"
	"github.com/paylink/paylink/internal/seal"
)

// testEdge is an edge on a database and Redis of the test's own, logging
// into logs, with routes mounted and served.
type testEdge struct {
	*Edge
	logs *strings.Builder
	url  string
}

func newTestEdge(t *testing.T, routes ...Route) *testEdge {
	t.Helper()
	rdb, _ := redistest.New(t)
	keyring, err := seal.Parse("1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	logs := &strings.Builder{}
	base, _ := url.Parse("http://paylink.test")
	rate := limiter.Rate{Period: time.Minute, Limit: 10000}
	e, err := New(Config{Log: slog.New(slog.NewJSONHandler(logs, nil)), DB: pgtest.New(t), Redis: rdb,
		Idempotency: idempotency.NewStore(keyring), Registry: prometheus.NewRegistry(),
		Limits: Limits{API: rate, Public: rate, Login: rate}, BaseURL: base, RateLimitPrefix: t.Name(), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Mount(routes...); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Engine())
	t.Cleanup(srv.Close)
	return &testEdge{Edge: e, logs: logs, url: srv.URL}
}

// call sends a request and returns its status and body.
func (e *testEdge) call(t *testing.T, method, path string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader("{}"))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestPanicBecomesOpaque500(t *testing.T) {
	t.Parallel()
	e := newTestEdge(t, Route{Method: "GET", Path: "/v1/test-panic", Doc: "panic",
		Page: func(*gin.Context) { panic("secret internal detail sk_test_xyz") }})
	status, body := e.call(t, "GET", "/v1/test-panic", nil)
	if status != 500 || !strings.Contains(body, `"code":"internal_error"`) {
		t.Fatalf("panic answered %d %s; want 500 internal_error", status, body)
	}
	if strings.Contains(body, "secret internal detail") || strings.Contains(body, "goroutine") {
		t.Fatalf("500 body leaks internals: %s", body)
	}
	if !strings.Contains(e.logs.String(), "secret internal detail") {
		t.Error("the panic was not logged for operators")
	}
}

func TestClientThatHangsUpIsNotAnError(t *testing.T) {
	t.Parallel()
	e := newTestEdge(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("POST", "/pay/x", nil).WithContext(ctx)
	status, body := e.ErrorResponse(c, fmt.Errorf("open payment link: %w", ctx.Err()))
	if status != 499 || body.Error.Code != "client_closed_request" {
		t.Fatalf("canceled request: %d %+v; want 499 client_closed_request", status, body.Error)
	}
	if strings.Contains(e.logs.String(), `"level":"ERROR"`) {
		t.Fatalf("a client hanging up was logged as an error:\n%s", e.logs.String())
	}
	// A cancellation that is not the client's (our own timeout, say) is
	// still a 500.
	c.Request = httptest.NewRequest("POST", "/pay/x", nil)
	if status, _ := e.ErrorResponse(c, fmt.Errorf("x: %w", context.Canceled)); status != 500 {
		t.Fatalf("cancellation with the client still there: %d, want 500", status)
	}
}

// TestDeclarationsDecideTheChain: SameOrigin runs before Auth, Auth
// before the scope check, and a caller without the scope is refused.
func TestDeclarationsDecideTheChain(t *testing.T) {
	t.Parallel()
	key := Auth{Name: "test key", Scheme: "apiKey", Check: func(c *gin.Context) (Caller, error) {
		switch c.GetHeader("X-Key") {
		case "full":
			return Caller{RateKey: "key:full"}, nil
		case "reader":
			return Caller{RateKey: "key:reader", Scopes: []string{"things:read", "other:write"}}, nil
		}
		return Caller{}, ErrRouteNotFound.WithMessage("no key") // any error: rendered as it is
	}}
	ok := func(c *gin.Context) error { c.String(http.StatusOK, "ok"); return nil }
	e := newTestEdge(t,
		Route{Method: "POST", Path: "/things", Auth: key, Scope: "things:write", SameOrigin: true, Limit: PerCaller, Doc: "a", Handle: ok},
		Route{Method: "GET", Path: "/things", Auth: key, Scope: "things:read", Limit: PerCaller, Doc: "b", Handle: ok},
	)
	json := map[string]string{"Content-Type": "application/json"}
	tests := []struct {
		name, method string
		header       map[string]string
		status       int
		want         string
	}{
		{"cross-site, before auth", "POST", map[string]string{"Content-Type": "application/json", "Origin": "https://evil.test"}, 403, "origin_not_allowed"},
		{"not JSON, before auth", "POST", map[string]string{"X-Key": "full"}, 400, "content_type_invalid"},
		{"no key", "POST", json, 404, "route_not_found"},
		{"full access", "POST", map[string]string{"Content-Type": "application/json", "X-Key": "full"}, 200, "ok"},
		{"write scope missing", "POST", map[string]string{"Content-Type": "application/json", "X-Key": "reader"}, 403, "insufficient_scope"},
		{"read scope held", "GET", map[string]string{"X-Key": "reader"}, 200, "ok"},
	}
	for _, tt := range tests {
		status, body := e.call(t, tt.method, "/things", tt.header)
		if status != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %s; want %d with %q", tt.name, status, body, tt.status, tt.want)
		}
	}
}

func TestCallerAllows(t *testing.T) {
	full := Caller{}
	some := Caller{Scopes: []string{"payment_links:write", "payments:read"}}
	for _, tc := range []struct {
		c     Caller
		scope string
		want  bool
	}{
		{full, "refunds:write", true},
		{some, "payment_links:write", true},
		{some, "payment_links:read", true}, // :write implies :read
		{some, "payments:read", true},
		{some, "payments:write", false}, // :read does not imply :write
		{some, "refunds:write", false},
		{Caller{Scopes: []string{}}, "payments:read", false}, // no scopes at all
	} {
		if got := tc.c.Allows(tc.scope); got != tc.want {
			t.Errorf("%v.Allows(%q) = %v, want %v", tc.c.Scopes, tc.scope, got, tc.want)
		}
	}
}

// TestOnlyIdempotentRoutesStoreAnswers: Mutate on a route that does not
// declare Idempotent is a programming error, answered 500 and logged.
func TestOnlyIdempotentRoutesStoreAnswers(t *testing.T) {
	t.Parallel()
	var e *testEdge
	mutate := func(c *gin.Context) error {
		return e.Mutate(c, "caller", func(context.Context, pgx.Tx) (int, any, error) { return http.StatusCreated, "made", nil })
	}
	e = newTestEdge(t,
		Route{Method: "POST", Path: "/declared", Idempotent: true, Doc: "a", Handle: mutate},
		Route{Method: "POST", Path: "/undeclared", Doc: "b", Handle: mutate},
	)
	key := map[string]string{"Idempotency-Key": "k1"}
	if status, body := e.call(t, "POST", "/declared", key); status != 201 || !strings.Contains(body, "made") {
		t.Fatalf("declared route: %d %s", status, body)
	}
	if status, body := e.call(t, "POST", "/undeclared", key); status != 500 {
		t.Fatalf("undeclared route: %d %s; want 500", status, body)
	}
	if !strings.Contains(e.logs.String(), "not declared Idempotent") {
		t.Errorf("the mistake was not logged:\n%s", e.logs.String())
	}
}

func TestMountRefusesIncompleteRoutes(t *testing.T) {
	t.Parallel()
	e := newTestEdge(t)
	ok := func(*gin.Context) error { return nil }
	for _, r := range []Route{
		{Method: "GET", Path: "/a", Doc: "a"},                                          // no handler
		{Method: "GET", Path: "/b", Doc: "b", Handle: ok, Page: func(*gin.Context) {}}, // two
		{Method: "GET", Path: "/c", Handle: ok},                                        // no documentation
		{Method: "GET", Path: "/d", Doc: "d", Scope: "payments:read", Handle: ok},      // a scope, nobody to hold it
	} {
		if err := e.Mount(r); err == nil {
			t.Errorf("Mount(%s %s) accepted an incomplete route", r.Method, r.Path)
		}
	}
}
