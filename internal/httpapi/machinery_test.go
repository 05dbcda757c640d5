package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/ulule/limiter/v3"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/idempotency"
)

func TestIdempotentReplay(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, k := e.SignUp("idem@shop.test")
	h := map[string]string{"Idempotency-Key": "create-key-1"}
	first := e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys", Auth: &k, Header: h})
	again := e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys", Auth: &k, Header: h})
	if first.Status != 201 || again.Status != 201 {
		t.Fatalf("statuses = %d, %d; want 201, 201", first.Status, again.Status)
	}
	if string(first.Body) != string(again.Body) {
		t.Errorf("replay body differs:\n%s\n%s", first.Body, again.Body)
	}
	if first.Header.Get("Idempotent-Replayed") != "" || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("Idempotent-Replayed = %q then %q; want empty then true",
			first.Header.Get("Idempotent-Replayed"), again.Header.Get("Idempotent-Replayed"))
	}
	if n := countKeys(t, e); n != 2 {
		t.Errorf("keys = %d, want 2 (sign-up key + one created once)", n)
	}
	// Keys are per caller: another merchant's identical key runs afresh.
	_, other := e.SignUp("idem-other@shop.test")
	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys", Auth: &other, Header: h})
	if res.Status != 201 || res.Header.Get("Idempotent-Replayed") != "" || string(res.Body) == string(first.Body) {
		t.Errorf("same key from another merchant = %d replayed=%q; want a fresh 201", res.Status, res.Header.Get("Idempotent-Replayed"))
	}
}

func TestIdempotencyKeyReusedWithOtherBody(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	h := map[string]string{"Idempotency-Key": "signup-42"}
	body := map[string]string{"name": "A", "email": "a@shop.test", "password": "0123456789"}
	if res := e.Do(apitest.Req{Method: "POST", Path: "/v1/merchants", Header: h, Body: body}); res.Status != 201 {
		t.Fatalf("first: %d %s", res.Status, res.Body)
	}
	// Whitespace and key order do not make a request different.
	same := `{ "password":"0123456789", "email":"a@shop.test", "name":"A" }`
	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/merchants", Header: h, Body: same})
	if res.Status != 201 || res.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("reordered body: %d %s; want a replay", res.Status, res.Body)
	}
	body["name"] = "B"
	reused := e.Do(apitest.Req{Method: "POST", Path: "/v1/merchants", Header: h, Body: body})
	apitest.WantError(t, reused, 422, "idempotency_key_reused")
	// The refusal says what to do about it.
	if !strings.Contains(string(reused.Body), "send a new key with a new request") {
		t.Errorf("idempotency_key_reused = %s; want the message to say to send a new key", reused.Body)
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/merchants", Header: map[string]string{"Idempotency-Key": "café"}, Body: body}),
		400, "idempotency_key_invalid")
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/merchants", Header: map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}, Body: body}),
		400, "idempotency_key_invalid")
}

// TestEmptyIdempotencyKeyIsRefused: an Idempotency-Key header sent empty
// (or blank, or twice) is 400 idempotency_key_invalid and does nothing; it
// is neither treated as absent (the client expects a once-only request)
// nor as a key.
func TestEmptyIdempotencyKeyIsRefused(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, k := e.SignUp("empty-key@shop.test")
	link := map[string]any{"amount": 500, "currency": "usd"}
	for _, v := range []string{"", "   "} {
		res := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links", Auth: &k, Body: link,
			Header: map[string]string{"Idempotency-Key": v}})
		apitest.WantError(t, res, 400, "idempotency_key_invalid")
		if !strings.Contains(string(res.Body), "empty") {
			t.Errorf("Idempotency-Key %q: %s; want the message to say it is empty", v, res.Body)
		}
	}
	signup := map[string]string{"name": "A", "email": "empty-key-2@shop.test", "password": "0123456789"}
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/merchants", Body: signup,
		Header: map[string]string{"Idempotency-Key": ""}}), 400, "idempotency_key_invalid")
	hr, err := http.NewRequest("POST", e.Base+"/v1/payment_links", strings.NewReader(`{"amount":500,"currency":"usd"}`))
	if err != nil {
		t.Fatal(err)
	}
	hr.SetBasicAuth(k.ID, k.Secret)
	hr.Header["Idempotency-Key"] = []string{"one", "two"}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("two Idempotency-Key headers: %d; want 400", res.StatusCode)
	}
	if n := e.Count(`SELECT count(*) FROM payment_links`) + e.Count(`SELECT count(*) FROM merchants`); n != 1 {
		t.Errorf("refused requests left %d links and merchants; want only the first merchant", n)
	}
}

// TestRepeatedJSONKeyIsRefused: {"amount":100,"amount":1} is 400
// duplicate_parameter naming amount, not a link for the last amount.
func TestRepeatedJSONKeyIsRefused(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, k := e.SignUp("dup-key@shop.test")
	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/payment_links", Auth: &k, Body: `{"amount":100,"currency":"usd","amount":1}`})
	apitest.WantError(t, res, 400, "duplicate_parameter")
	if !strings.Contains(string(res.Body), `"param":"amount"`) || !strings.Contains(string(res.Body), "Parameter amount is given more than once") {
		t.Errorf("repeated amount: %s; want param and message naming amount", res.Body)
	}
	if n := e.Count(`SELECT count(*) FROM payment_links`); n != 0 {
		t.Fatalf("a body with a repeated key made %d links", n)
	}
}

func TestIdempotencyConcurrentRequestsRunOnce(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, k := e.SignUp("concurrent@shop.test")
	const n = 10
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]apitest.Response, n)
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys", Auth: &k, Header: map[string]string{"Idempotency-Key": "same"}})
		}()
	}
	close(start)
	wg.Wait()
	var bodies []string
	for _, r := range results {
		switch {
		case r.Status == 201:
			bodies = append(bodies, string(r.Body))
		case r.Status == 409 && r.ErrorCode() == "idempotency_key_in_use":
		default:
			t.Errorf("unexpected answer %d %s", r.Status, r.Body)
		}
	}
	if len(bodies) == 0 {
		t.Fatal("no request succeeded")
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Fatalf("successful answers differ:\n%s\n%s", bodies[0], b)
		}
	}
	if got := countKeys(t, e); got != 2 {
		t.Fatalf("keys = %d after %d concurrent requests with one Idempotency-Key; want 2", got, n)
	}
	// Once the first has finished, the key replays.
	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys", Auth: &k, Header: map[string]string{"Idempotency-Key": "same"}})
	if res.Status != 201 || string(res.Body) != bodies[0] || res.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("after the race: %d %s; want the stored answer replayed", res.Status, res.Body)
	}
}

func TestIdempotencyFailedRequestRunsAgain(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	h := map[string]string{"Idempotency-Key": "retry-me"}
	_, _ = e.SignUp("taken@shop.test")
	// Fails (409) without committing: the key stays free.
	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/merchants", Header: h,
		Body: map[string]string{"name": "A", "email": "taken@shop.test", "password": "0123456789"}})
	apitest.WantError(t, res, 409, "email_taken")
	res = e.Do(apitest.Req{Method: "POST", Path: "/v1/merchants", Header: h,
		Body: map[string]string{"name": "A", "email": "free@shop.test", "password": "0123456789"}})
	if res.Status != 201 || res.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("retry after a failure = %d %s; want a fresh 201", res.Status, res.Body)
	}
}

func TestIdempotencyCleanup(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, k := e.SignUp("cleanup@shop.test")
	e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys", Auth: &k, Header: map[string]string{"Idempotency-Key": "old"}})
	ctx := context.Background()
	if _, err := e.DB.Pool.Exec(ctx, `UPDATE idempotency_keys SET created_at = now() - interval '49 hours'`); err != nil {
		t.Fatal(err)
	}
	e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys", Auth: &k, Header: map[string]string{"Idempotency-Key": "new"}})
	n, err := idempotency.DeleteBefore(ctx, e.DB.Pool, time.Now().Add(-48*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("cleanup removed %d (%v), want 1", n, err)
	}
	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys", Auth: &k, Header: map[string]string{"Idempotency-Key": "new"}})
	if res.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("a recent key was cleaned up")
	}
}

func countKeys(t *testing.T, e *apitest.Env) int {
	t.Helper()
	var n int
	if err := e.DB.Pool.QueryRow(context.Background(), "SELECT count(*) FROM api_keys").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, func(d *httpapi.Deps) {
		d.Limits.API = limiter.Rate{Period: time.Hour, Limit: 3}
	})
	_, k := e.SignUp("limited@shop.test")
	_, other := e.SignUp("unlimited@shop.test")
	for i := 0; i < 3; i++ {
		res := e.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &k})
		if res.Status != 200 {
			t.Fatalf("request %d: %d", i+1, res.Status)
		}
		if got := res.Header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(2-i) {
			t.Errorf("request %d: X-RateLimit-Remaining = %q, want %d", i+1, got, 2-i)
		}
		if res.Header.Get("X-RateLimit-Limit") != "3" {
			t.Errorf("X-RateLimit-Limit = %q, want 3", res.Header.Get("X-RateLimit-Limit"))
		}
		reset, err := strconv.ParseInt(res.Header.Get("X-RateLimit-Reset"), 10, 64)
		if err != nil || reset < time.Now().Unix() || reset > time.Now().Add(time.Hour+time.Minute).Unix() {
			t.Errorf("X-RateLimit-Reset = %q, want a unix time within the hour", res.Header.Get("X-RateLimit-Reset"))
		}
	}
	res := e.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &k})
	apitest.WantError(t, res, http.StatusTooManyRequests, "rate_limited")
	ra, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 3600 {
		t.Errorf("Retry-After = %q, want 1..3600 seconds", res.Header.Get("Retry-After"))
	}
	// Limits are per key.
	if res := e.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &other}); res.Status != 200 {
		t.Errorf("another key: %d, want 200", res.Status)
	}
}

func TestRateLimitIsSharedBetweenReplicas(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, func(d *httpapi.Deps) { d.Limits.Public = limiter.Rate{Period: time.Hour, Limit: 2} })
	// A second server on the same Redis and database, as another replica.
	e2 := e.Replica(func(d *httpapi.Deps) { d.Limits.Public = limiter.Rate{Period: time.Hour, Limit: 2} })
	body := func(n int) map[string]string {
		return map[string]string{"name": "R", "email": "r" + strconv.Itoa(n) + "@shop.test", "password": "0123456789"}
	}
	e.Do(apitest.Req{Method: "POST", Path: "/v1/merchants", Body: body(1)})
	e2.Do(apitest.Req{Method: "POST", Path: "/v1/merchants", Body: body(2)})
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/merchants", Body: body(3)}), 429, "rate_limited")
	apitest.WantError(t, e2.Do(apitest.Req{Method: "POST", Path: "/v1/merchants", Body: body(4)}), 429, "rate_limited")
}

func TestUnknownRouteAndMethod(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/nope"}), 404, "route_not_found")
	apitest.WantError(t, e.Do(apitest.Req{Method: "PUT", Path: "/v1/merchants"}), 405, "method_not_allowed")
	// A trailing slash is an unknown route too: a JSON 404, not an HTML redirect.
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/healthz/"}), 404, "route_not_found")
	if res := e.Do(apitest.Req{Method: "GET", Path: "/healthz"}); res.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id on a successful response")
	}
}

func TestOpsEndpoints(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	if res := e.Do(apitest.Req{Method: "GET", Path: "/healthz"}); res.Status != 200 {
		t.Errorf("healthz = %d", res.Status)
	}
	res := e.Do(apitest.Req{Method: "GET", Path: "/readyz"})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"postgres":"ok"`) || !strings.Contains(string(res.Body), `"redis":"ok"`) {
		t.Errorf("readyz = %d %s", res.Status, res.Body)
	}
	e.Do(apitest.Req{Method: "GET", Path: "/v1/merchant"})
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/metrics"}), 404, "route_not_found") // metrics have their own address
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(e.Deps.Registry, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	m := apitest.Response{Status: rec.Code, Body: rec.Body.Bytes()}
	for _, want := range []string{
		`paylink_http_requests_total{method="GET",route="/v1/merchant",status="401"} 1`,
		`paylink_http_request_duration_seconds_bucket{method="GET",route="/readyz",status="200",le=`,
	} {
		if !strings.Contains(string(m.Body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestReadyzFailsWithoutRedis(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	if err := e.Deps.Redis.Close(); err != nil {
		t.Fatal(err)
	}
	res := e.Do(apitest.Req{Method: "GET", Path: "/readyz"})
	if res.Status != 503 || !strings.Contains(string(res.Body), `"redis":"unreachable"`) {
		t.Fatalf("readyz without Redis = %d %s; want 503 naming redis", res.Status, res.Body)
	}
}

// TestOpenAPIMatchesRoutes keeps the published document and the router in
// step: every registered route is documented and nothing else is.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	res := e.Do(apitest.Req{Method: "GET", Path: "/v1/openapi.json"})
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	res.Decode(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	registered := e.Server.Routes()
	sort.Strings(documented)
	sort.Strings(registered)
	if diff := cmp.Diff(registered, documented); diff != "" {
		t.Fatalf("routes (-registered +documented):\n%s", diff)
	}
}

// TestAPIAnswersAreNotSniffedOrCached: the API's JSON answers (and its
// errors) carry nosniff and Cache-Control: no-store, since they hold a
// merchant's or a wallet user's data; a handler that allows caching (a
// link's QR code) still says so itself.
func TestAPIAnswersAreNotSniffedOrCached(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("headers@shop.test")
	l := e.CreateLink(c, nil)
	user := e.WalletUser("headers@wallet.test")
	for name, res := range map[string]apitest.Response{
		"merchant":       e.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &c}),
		"wallet account": user.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}),
		"an error":       e.Do(apitest.Req{Method: "GET", Path: "/v1/payments/pay_01m8000000000000000000000a", Auth: &c}),
		"no route":       e.Do(apitest.Req{Method: "GET", Path: "/v1/nothing"}),
	} {
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d nosniff %q, Cache-Control %q", name, res.Status, res.Header.Get("X-Content-Type-Options"), res.Header.Get("Cache-Control"))
		}
	}
	qr := e.Do(apitest.Req{Method: "GET", Path: "/v1/payment_links/" + l.ID + "/qr", Auth: &c})
	if qr.Status != 200 || qr.Header.Get("Cache-Control") != "private, max-age=300" {
		t.Errorf("QR code: %d Cache-Control %q", qr.Status, qr.Header.Get("Cache-Control"))
	}
}
