package httpapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/waitfor"
)

// requestTimeout is the bound of the servers in these tests: long enough
// for any request that is not stuck, short enough to wait for.
const requestTimeout = time.Second

// TestRequestTimeoutStopsAStuckRequest: a settings change whose UPDATE
// waits on a lock another transaction holds answers 503 request_timeout
// with Retry-After once the request timeout passes, and keeps nothing of
// itself: retried with the same Idempotency-Key after the lock is gone,
// it is made (not replayed as the 503).
func TestRequestTimeoutStopsAStuckRequest(t *testing.T) {
	t.Parallel()
	e := timedServer(t)
	id, c := e.SignUp("stuck@shop.test")
	ctx := context.Background()
	holder := lockIn(t, e, "SELECT 1 FROM merchants WHERE id = $1 FOR UPDATE", id)
	patch := apitest.Req{Method: "PATCH", Path: "/v1/merchant", Auth: &c, Body: map[string]any{"currencies": []string{"EUR"}},
		Header: map[string]string{"Idempotency-Key": "stuck-patch-1"}}
	res := e.Do(patch)
	apitest.WantError(t, res, http.StatusServiceUnavailable, "request_timeout")
	if got := res.Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	if !strings.Contains(e.Logs.String(), `"msg":"request timed out"`) {
		t.Errorf("no log line for the timed-out request:\n%s", e.Logs.String())
	}
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var currencies []string
	if err := e.DB.Pool.QueryRow(ctx, "SELECT coalesce(currencies, '{}') FROM merchants WHERE id = $1", id).Scan(&currencies); err != nil {
		t.Fatal(err)
	}
	if len(currencies) != 0 {
		t.Fatalf("the timed-out PATCH left currencies %v", currencies)
	}
	res = e.Do(patch)
	if res.Status != http.StatusOK || res.Header.Get("Idempotent-Replayed") != "" || !strings.Contains(string(res.Body), `"currencies":["EUR"]`) {
		t.Fatalf("the retry = %d (replayed %q) %s; want the change made", res.Status, res.Header.Get("Idempotent-Replayed"), res.Body)
	}
}

// TestRequestTimeoutSparesExports: while a lock keeps the payments table
// from being read, a payment list answers request_timeout, but a CSV
// export, which bounds its own time, waits past the request timeout and
// streams once the lock is gone.
func TestRequestTimeoutSparesExports(t *testing.T) {
	t.Parallel()
	e := timedServer(t)
	_, c := e.SignUp("export-wait@shop.test")
	ctx := context.Background()
	holder := lockIn(t, e, "LOCK TABLE payments IN ACCESS EXCLUSIVE MODE")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/payments", Auth: &c}),
		http.StatusServiceUnavailable, "request_timeout")

	exported := make(chan apitest.Response, 1)
	go func() {
		res, err := get(e, c, "/v1/reports/payments.csv")
		if err != nil {
			t.Error(err)
		}
		exported <- res
	}()
	// The export is still waiting for the lock well after a request
	// bounded by the timeout would have given up.
	waitfor.Until(t, 30*time.Second, "the export waiting on the lock past the request timeout", func(ctx context.Context) error {
		var waiting bool
		err := e.DB.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'DECLARE export%'
			  AND now() - query_start > $1::interval)`, (2 * requestTimeout).String()).Scan(&waiting)
		if err == nil && !waiting {
			err = errors.New("not yet")
		}
		return err
	})
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	res := <-exported
	if res.Status != http.StatusOK || !strings.HasPrefix(string(res.Body), "id,") {
		t.Fatalf("export = %d %.200s; want 200 and the CSV header", res.Status, res.Body)
	}
}

// timedServer is a test server bounding requests by requestTimeout.
func timedServer(t *testing.T) *apitest.Env {
	return apitest.New(t, func(d *httpapi.Deps) { d.RequestTimeout = requestTimeout })
}

// lockIn runs sql with args in a transaction of its own that holds what
// it locks until the caller rolls it back (or the test ends).
func lockIn(t *testing.T, e *apitest.Env, sql string, args ...any) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	holder, err := e.DB.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Rollback(ctx) }) // a no-op once rolled back
	if _, err := holder.Exec(ctx, sql, args...); err != nil {
		t.Fatal(err)
	}
	return holder
}

// get is Env.Do for a goroutine: it returns its error instead of failing
// the test.
func get(e *apitest.Env, c apitest.Creds, path string) (apitest.Response, error) {
	req, err := http.NewRequest("GET", e.Base+path, nil)
	if err != nil {
		return apitest.Response{}, err
	}
	req.SetBasicAuth(c.ID, c.Secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return apitest.Response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return apitest.Response{Status: res.StatusCode, Header: res.Header, Body: b}, err
}
