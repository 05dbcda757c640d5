package delivery

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paylink/paylink/internal/webhook"
)

// firstAttempts claims every new delivery, makes the attempts side by
// side and records them, as the worker does, and returns how many it
// claimed.
func (f *fixture) firstAttempts(q Enqueuer) int {
	f.t.Helper()
	claimed, err := f.svc.ClaimNew(f.ctx, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, a := range claimed {
		wg.Go(func() { f.svc.Make(f.ctx, a) })
	}
	wg.Wait()
	if err := f.svc.RecordFirst(f.ctx, q, claimed); err != nil {
		f.t.Fatal(err)
	}
	return len(claimed)
}

// TestFirstAttemptsDeliverWithoutTheQueue: new deliveries are claimed,
// POSTed and recorded in one pass; successes never touch the task queue,
// each attempt is signed and logged, and a finished delivery is never
// claimed again.
func TestFirstAttemptsDeliverWithoutTheQueue(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rcv := newReceiver(t, status(204, ""))
	ep := f.endpoint(rcv.URL, webhook.AllEvents)
	var evts []string
	for _, p := range []string{"pay_1", "pay_2", "pay_3"} {
		evts = append(evts, f.record(webhook.PaymentSucceeded, payment(p)))
	}
	q := &fakeQueue{}
	if n := f.firstAttempts(q); n != 3 {
		t.Fatalf("claimed %d deliveries, want 3", n)
	}
	if len(q.tasks) != 0 {
		t.Fatalf("successful first attempts went to the task queue: %v", q.tasks)
	}
	seen := map[string]bool{}
	for range evts {
		got := rcv.next(t)
		if err := verify(ep.Secret, got.Header, got.Body); err != nil {
			t.Fatal(err)
		}
		seen[got.Header.Get("webhook-id")] = true
	}
	for _, evt := range evts {
		d := f.onlyDelivery(evt)
		if !seen[evt] || d.Status != webhook.DeliverySucceeded || d.Attempts != 1 || len(d.Log) != 1 || d.Log[0].StatusCode != 204 ||
			d.CompletedAt == nil || d.NextAttemptAt != nil {
			t.Errorf("event %s (received: %v): delivery %+v", evt, seen[evt], d)
		}
	}
	if n := f.firstAttempts(q); n != 0 {
		t.Fatalf("a second pass claimed %d deliveries", n)
	}
}

// TestFirstAttemptOutcomes: a failed first attempt is recorded and the
// delivery goes to the task queue at its retry time (and is not claimed
// again as new); a 410 disables the endpoint; a delivery to an endpoint
// disabled since it was recorded fails without a request.
func TestFirstAttemptOutcomes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	failing := newReceiver(t, status(503, "busy"))
	gone := newReceiver(t, status(410, ""))
	off := newReceiver(t, status(200, ""))
	failingEp := f.endpoint(failing.URL, webhook.PaymentSucceeded)
	goneEp := f.endpoint(gone.URL, webhook.PaymentSucceeded)
	offEp := f.endpoint(off.URL, webhook.PaymentSucceeded)
	evt := f.record(webhook.PaymentSucceeded, payment("pay_1"))
	disabled := webhook.StatusDisabled
	f.tx(func(tx pgx.Tx) error {
		_, err := f.hooks.UpdateEndpoint(f.ctx, tx, f.merchant.ID, offEp.ID, webhook.EndpointUpdate{Status: &disabled})
		return err
	})

	q := &fakeQueue{}
	if n := f.firstAttempts(q); n != 3 {
		t.Fatalf("claimed %d deliveries, want 3", n)
	}
	byEndpoint := map[string]*webhook.Delivery{}
	for _, d := range f.deliveries(evt) {
		byEndpoint[d.EndpointID] = d
	}
	retry := byEndpoint[failingEp.ID]
	if retry.Status != webhook.DeliveryPending || retry.Attempts != 1 || len(retry.Log) != 1 || retry.Log[0].StatusCode != 503 ||
		retry.NextAttemptAt == nil {
		t.Fatalf("failed delivery = %+v; want pending with one attempt and a next attempt", retry)
	}
	if at, ok := q.tasks[retry.ID]; !ok || at.Sub(*retry.NextAttemptAt).Abs() > time.Millisecond {
		t.Fatalf("queue = %v; want %s at %s", q.tasks, retry.ID, retry.NextAttemptAt)
	}
	if d := byEndpoint[goneEp.ID]; d.Status != webhook.DeliveryFailed || len(d.Log) != 1 || d.Log[0].StatusCode != 410 {
		t.Errorf("delivery to the 410 endpoint = %+v; want failed after one attempt", d)
	}
	if e, err := f.hooks.GetEndpoint(f.ctx, f.db.Pool, f.merchant.ID, goneEp.ID); err != nil || e.Status != webhook.StatusDisabled {
		t.Errorf("410 endpoint = %+v, %v; want disabled", e, err)
	}
	if d := byEndpoint[offEp.ID]; d.Status != webhook.DeliveryFailed || len(d.Log) != 0 {
		t.Errorf("delivery to the disabled endpoint = %+v; want failed without an attempt", d)
	}
	select {
	case r := <-off.got:
		t.Errorf("the disabled endpoint got a request: %s", r.Body)
	default:
	}
	if n := f.firstAttempts(q); n != 0 {
		t.Fatalf("a second pass claimed %d deliveries; the retry belongs to the task queue", n)
	}
	// The retry, from the task queue, succeeds once due.
	failing.mu.Lock()
	failing.answers = []http.HandlerFunc{status(200, "")}
	failing.mu.Unlock()
	f.clock.Advance(time.Minute)
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, retry.ID); err != nil {
		t.Fatal(err)
	}
	if d := f.deliveries(evt); len(d) != 3 {
		t.Fatalf("%d deliveries", len(d))
	}
	for _, d := range f.deliveries(evt) {
		if d.ID == retry.ID && (d.Status != webhook.DeliverySucceeded || d.Attempts != 2) {
			t.Fatalf("retried delivery = %+v; want succeeded on the second attempt", d)
		}
	}
}

// TestFirstAttemptLeases: a claimed delivery is not claimed again while
// its lease lasts, whoever asks; once the lease runs out (its worker
// died), it is claimed again and delivered: at least once. An attempt
// stopped by shutdown is released for the next claim at once.
func TestFirstAttemptLeases(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rcv := newReceiver(t, status(200, ""))
	f.endpoint(rcv.URL, webhook.AllEvents)
	evt := f.record(webhook.PaymentSucceeded, payment("pay_1"))
	claimed, err := f.svc.ClaimNew(f.ctx, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("ClaimNew = %d, %v", len(claimed), err)
	}
	again, err := f.svc.ClaimNew(f.ctx, 10)
	if err != nil || len(again) != 0 {
		t.Fatalf("second ClaimNew = %d, %v; want nothing while leased", len(again), err)
	}
	q := &fakeQueue{}
	if n, err := f.svc.Relay(f.ctx, q, 10); n != 0 || err != nil {
		t.Fatalf("Relay = %d, %v; want nothing while leased", n, err)
	}
	// The claiming worker dies; the lease runs out.
	f.clock.Advance(f.hooks.Timeout() + leaseMargin + time.Second)
	if n := f.firstAttempts(q); n != 1 {
		t.Fatalf("claimed %d after the lease ran out, want 1", n)
	}
	if d := f.onlyDelivery(evt); d.Status != webhook.DeliverySucceeded || d.Attempts != 1 {
		t.Fatalf("delivery = %+v; want succeeded", d)
	}

	// Shutdown: the attempt is not made, and the delivery is claimable
	// again at once.
	evt2 := f.record(webhook.PaymentSucceeded, payment("pay_2"))
	claimed, err = f.svc.ClaimNew(f.ctx, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("ClaimNew = %d, %v", len(claimed), err)
	}
	stopped, cancel := context.WithCancel(f.ctx)
	cancel()
	f.svc.Make(stopped, claimed[0])
	if err := f.svc.RecordFirst(f.ctx, q, claimed); err != nil {
		t.Fatal(err)
	}
	if d := f.onlyDelivery(evt2); d.Status != webhook.DeliveryPending || d.Attempts != 0 || len(d.Log) != 0 {
		t.Fatalf("delivery after a stopped attempt = %+v; want pending, untouched", d)
	}
	if n := f.firstAttempts(q); n != 1 {
		t.Fatalf("claimed %d after the release, want 1", n)
	}
	if d := f.onlyDelivery(evt2); d.Status != webhook.DeliverySucceeded {
		t.Fatalf("delivery = %+v; want succeeded", d)
	}
}

// TestFirstAttemptRetryWithRedisDown: when the retry cannot be handed to
// the task queue, the delivery stays pending in PostgreSQL, marked as the
// queue's, and the sweeper hands it over once Redis is back.
func TestFirstAttemptRetryWithRedisDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rcv := newReceiver(t, status(500, ""))
	f.endpoint(rcv.URL, webhook.AllEvents)
	d := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_1")))
	q := &fakeQueue{fail: errors.New("redis down")}
	claimed, err := f.svc.ClaimNew(f.ctx, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("ClaimNew = %d, %v", len(claimed), err)
	}
	f.svc.Make(f.ctx, claimed[0])
	if err := f.svc.RecordFirst(f.ctx, q, claimed); err == nil {
		t.Fatal("RecordFirst with Redis down reported no error")
	}
	if got := f.onlyDelivery(d.EventID); got.Status != webhook.DeliveryPending || got.Attempts != 1 {
		t.Fatalf("delivery = %+v; want pending after one attempt", got)
	}
	q.fail = nil
	f.clock.Advance(time.Hour)
	if n, err := f.svc.Sweep(f.ctx, q, time.Minute); n != 1 || err != nil {
		t.Fatalf("Sweep = %d, %v; want the delivery handed over", n, err)
	}
	if _, ok := q.tasks[d.ID]; !ok {
		t.Fatalf("queue = %v; want %s", q.tasks, d.ID)
	}
}
