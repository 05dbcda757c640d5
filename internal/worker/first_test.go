package worker

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// direct makes the worker attempt new deliveries itself (four at once).
func direct(d *Deps) { d.WebhookConcurrency = 4 }

// waitFinished polls until delivery id leaves pending and returns its
// status and attempts' status codes.
func (h *harness) waitFinished(id string, within time.Duration) (string, []int) {
	h.t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		status, codes := h.delivery(id)
		if status != "pending" {
			return status, codes
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("delivery %s still pending after %s, attempts %v", id, within, codes)
		}
		<-tick.C
	}
}

// TestDirectDeliveryOutcomes: with first attempts made by the worker
// itself, each receiver script ends as it does through Asynq alone: the
// retries go through Asynq and every attempt is recorded and signed.
func TestDirectDeliveryOutcomes(t *testing.T) {
	t.Parallel()
	slowRelease := make(chan struct{})
	t.Cleanup(func() { close(slowRelease) })
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-slowRelease:
		case <-r.Context().Done():
		}
	}
	tests := []struct {
		name       string
		script     []http.HandlerFunc
		wantStatus string
		wantCodes  []int
	}{
		{"200 at once", []http.HandlerFunc{answer(200)}, "succeeded", []int{200}},
		{"500, 500, then 200: delivered on the third attempt", []http.HandlerFunc{answer(500), answer(500), answer(200)}, "succeeded", []int{500, 500, 200}},
		{"slower than the timeout: retried", []http.HandlerFunc{slow, answer(204)}, "succeeded", []int{0, 204}},
		{"410: endpoint disabled, no retry", []http.HandlerFunc{answer(410)}, "failed", []int{410}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, 500*time.Millisecond, direct)
			srv, got := receiver(t, tc.script...)
			secret := h.endpoint(srv.URL + "/hook")
			h.run(h.newWorker())
			evtID, dlvID := h.pay("pay_"+strings.ReplaceAll(tc.name[:3], " ", "_"), "Ada Shopper")
			status, codes := h.waitFinished(dlvID, time.Minute)
			if status != tc.wantStatus || fmt.Sprint(codes) != fmt.Sprint(tc.wantCodes) {
				t.Fatalf("delivery %s with attempts %v; want %s with %v", status, codes, tc.wantStatus, tc.wantCodes)
			}
			if len(got) != len(tc.wantCodes) {
				t.Fatalf("receiver got %d requests, want %d", len(got), len(tc.wantCodes))
			}
			for range tc.wantCodes {
				r := <-got
				if r.header.Get("webhook-id") != evtID || !verifySignature(secret, r) {
					t.Fatalf("request with id %q and a signature the verifier rejects", r.header.Get("webhook-id"))
				}
			}
		})
	}
}

// TestDirectWorkerKilledMidDelivery: a worker making a first attempt
// itself is SIGKILLed while the receiver holds the request. Nothing was
// recorded; once the dead worker's lease runs out a new worker claims the
// delivery again and delivers it, with the same webhook-id.
func TestDirectWorkerKilledMidDelivery(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 2*time.Second, direct)
	arrived := make(chan struct{}, 1)
	hold := func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
	}
	srv, got := receiver(t, hold, answer(200))
	h.endpoint(srv.URL)

	var childLog syncBuffer
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"=1", "PAYLINK_TEST_CHILD_DB="+h.dbURL,
		"PAYLINK_TEST_CHILD_REDIS="+h.redisURL, "PAYLINK_TEST_CHILD_TIMEOUT=2s", "PAYLINK_TEST_CHILD_WEBHOOK_CONCURRENCY=4")
	child.Stdout, child.Stderr = &childLog, &childLog
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	evtID, dlvID := h.pay("pay_killed", "Ada Shopper")
	select {
	case <-arrived:
	case <-time.After(time.Minute):
		child.Process.Kill()
		t.Fatalf("the child worker never delivered:\n%s", childLog.String())
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	if status, codes := h.delivery(dlvID); status != "pending" || len(codes) != 0 {
		t.Fatalf("after the kill: %s with %v attempts; want pending with none recorded", status, codes)
	}
	h.run(h.newWorker())
	status, codes := h.waitFinished(dlvID, time.Minute)
	if status != "succeeded" || fmt.Sprint(codes) != "[200]" {
		t.Fatalf("delivery %s with %v; want succeeded", status, codes)
	}
	if len(got) != 2 {
		t.Fatalf("receiver got %d requests, want 2 (the interrupted one and the retry)", len(got))
	}
	for range 2 {
		if r := <-got; r.header.Get("webhook-id") != evtID {
			t.Fatalf("webhook-id %q, want %s both times so the receiver can dedupe", r.header.Get("webhook-id"), evtID)
		}
	}
}

// TestDirectShutdownLetsAttemptsFinish: SIGTERM while a receiver holds a
// first attempt. The attempt is not cut off: the receiver's answer is
// recorded before Run returns, so no restarted worker sends the event
// again.
func TestDirectShutdownLetsAttemptsFinish(t *testing.T) {
	t.Parallel()
	h := newHarness(t, time.Minute, direct, func(d *Deps) { d.ShutdownTimeout = time.Minute })
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	hold := func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
			w.WriteHeader(http.StatusOK)
		case <-r.Context().Done():
		}
	}
	srv, got := receiver(t, hold)
	h.endpoint(srv.URL)
	ctx, sigterm := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	go func() { done <- h.newWorker().Run(ctx) }()
	_, dlvID := h.pay("pay_shutdown", "Ada Shopper")
	within(t, arrived, "first attempt")
	sigterm()
	close(release)
	if err := within(t, done, "return from Run after shutdown"); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if status, codes := h.delivery(dlvID); status != "succeeded" || fmt.Sprint(codes) != "[200]" {
		t.Fatalf("after the shutdown: %s with attempts %v; want succeeded with [200]", status, codes)
	}
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
}

// BenchmarkDirectDeliveryThroughput records b.N payment events for one
// endpoint (a local receiver answering 204), then measures how fast one
// worker making first attempts itself delivers them all.
//
//	bin/paylink devenv -fast -- go test ./internal/worker -run '^$' -bench DirectDelivery -benchtime 4000x
func BenchmarkDirectDeliveryThroughput(b *testing.B) {
	h := newHarness(b, 5*time.Second, func(d *Deps) { d.WebhookConcurrency = 100; d.OutboxPoll = 250 * time.Millisecond })
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		got.Add(1)
		w.WriteHeader(204)
	}))
	defer srv.Close()
	h.endpoint(srv.URL)
	for i := range b.N {
		h.pay(fmt.Sprintf("pay_bench_%d", i), "Ada Shopper")
	}
	w := h.newWorker()
	b.ResetTimer()
	start := time.Now()
	h.run(w)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for got.Load() < int64(b.N) {
		<-tick.C
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}
