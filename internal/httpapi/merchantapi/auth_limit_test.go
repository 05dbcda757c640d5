package merchantapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// TestFailedAPIKeyAuthenticationsAreLimitedPerIP (security review,
// finding 7): a client IP that keeps presenting wrong API keys is stopped
// with 429 after PAYLINK_RATE_LIMIT_AUTH_FAILURES, for any key until the
// window passes; other addresses are not affected.
func TestFailedAPIKeyAuthenticationsAreLimitedPerIP(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, func(d *httpapi.Deps) {
		d.Limits.AuthFailures = limiter.Rate{Period: time.Hour, Limit: 5}
		d.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
	})
	_, key := e.SignUp("guarded@shop.test")
	wrong := apitest.Creds{ID: key.ID, Secret: "sk_test_wrong"}
	from := func(ip string, c apitest.Creds) apitest.Response {
		return e.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &c, Header: map[string]string{"X-Forwarded-For": ip}})
	}
	for i := 1; i <= 5; i++ {
		apitest.WantError(t, from("203.0.113.7", wrong), 401, "api_key_invalid")
	}
	res := from("203.0.113.7", wrong)
	apitest.WantError(t, res, 429, "rate_limited")
	if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After = %q", res.Header.Get("Retry-After"))
	}
	apitest.WantError(t, from("203.0.113.7", key), 429, "rate_limited")
	if res := from("198.51.100.2", key); res.Status != http.StatusOK {
		t.Fatalf("the right key from another address: %d %s", res.Status, res.Body)
	}
	apitest.WantError(t, from("198.51.100.2", wrong), 401, "api_key_invalid")
}
