package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/redistest"
)

// TestMetricsAreServedOnlyOnTheirOwnAddress (security review, finding 7):
// `paylink api` answers /metrics with 404 on its public address and serves
// the metrics on PAYLINK_METRICS_ADDR, its Redis round trips among them
// (the start's ping).
func TestMetricsAreServedOnlyOnTheirOwnAddress(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewWithURL(t)
	_, redisURL := redistest.New(t)
	api := &lineWatcher{re: regexp.MustCompile(`"msg":"api listening","addr":"([^"]+)"`), found: make(chan string, 1)}
	metrics := &lineWatcher{re: regexp.MustCompile(`"msg":"metrics listening","addr":"([^"]+)"`), found: make(chan string, 1)}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"api"}, getenvFrom(map[string]string{
			"DATABASE_URL": dbURL, "REDIS_URL": redisURL, "PAYLINK_ENCRYPTION_KEYS": testKeys,
			"PAYLINK_ADDR": "127.0.0.1:0", "PAYLINK_METRICS_ADDR": "127.0.0.1:0",
		}), io.Discard, io.MultiWriter(api, metrics))
	}()
	exited := false // run's result was read already
	defer func() {
		stop()
		if exited {
			return
		}
		if err := <-done; err != nil {
			t.Errorf("api: %v", err)
		}
	}()
	get := func(url string) (int, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	var addr string
	select {
	case addr = <-api.found:
	case err := <-done:
		exited = true
		t.Fatalf("api exited early: %v\n%s", err, api.String())
	}
	if st, body := get("http://" + addr + "/healthz"); st != 200 {
		t.Fatalf("healthz: %d %s", st, body)
	}
	if st, body := get("http://" + addr + "/metrics"); st != http.StatusNotFound || strings.Contains(body, "paylink_http_requests_total") {
		t.Fatalf("public /metrics = %d %.200s; want 404", st, body)
	}
	var maddr string
	select {
	case maddr = <-metrics.found:
	case err := <-done:
		exited = true
		t.Fatalf("api exited early: %v\n%s", err, metrics.String())
	}
	st, body := get("http://" + maddr + "/metrics")
	for _, want := range []string{`paylink_http_requests_total{method="GET",route="/healthz",status="200"} 1`, "go_goroutines", "process_start_time_seconds",
		`paylink_redis_round_trips_total{command="ping"}`} {
		if st != 200 || !strings.Contains(body, want) {
			t.Errorf("metrics address /metrics = %d, lacks %s", st, want)
		}
	}
}
