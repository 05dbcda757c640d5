package delivery

import (
	"context"
	"errors"
	"github.com/paylink/paylink/internal/webhook"
	"sync"
	"testing"
	"time"
)

// fakeQueue stands in for Asynq: a set of task ids, refusing duplicates
// as Asynq's task ids do. The worker tests run the real one.
type fakeQueue struct {
	mu    sync.Mutex
	tasks map[string]time.Time
	fail  error
}

func (q *fakeQueue) EnqueueDelivery(_ context.Context, _, deliveryID string, at time.Time) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return false, q.fail
	}
	if q.tasks == nil {
		q.tasks = map[string]time.Time{}
	}
	if _, ok := q.tasks[deliveryID]; ok {
		return false, nil
	}
	q.tasks[deliveryID] = at
	return true, nil
}

func (q *fakeQueue) flush() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tasks = nil
}

func TestRelayHandsEachDeliveryOverOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.endpoint("https://a.shop.test/", webhook.AllEvents)
	f.endpoint("https://b.shop.test/", webhook.AllEvents)
	var ids []string
	for range 3 {
		for _, d := range f.deliveries(f.record(webhook.PaymentSucceeded, payment("pay_1"))) {
			ids = append(ids, d.ID)
		}
	}
	q := &fakeQueue{fail: errors.New("redis down")}
	if n, err := f.svc.Relay(f.ctx, q, 100); n != 0 || err == nil {
		t.Fatalf("relay with Redis down = %d, %v; want 0 and the error", n, err)
	}
	q.fail = nil
	if n, err := f.svc.Relay(f.ctx, q, 4); n != 4 || err != nil {
		t.Fatalf("first relay = %d, %v; want 4 (the limit)", n, err)
	}
	if n, err := f.svc.Relay(f.ctx, q, 100); n != 2 || err != nil {
		t.Fatalf("second relay = %d, %v; want the 2 left", n, err)
	}
	if n, _ := f.svc.Relay(f.ctx, q, 100); n != 0 {
		t.Fatalf("third relay handed over %d; want none left", n)
	}
	for _, id := range ids {
		if _, ok := q.tasks[id]; !ok {
			t.Errorf("delivery %s never reached the queue", id)
		}
	}
}

// TestSweepRequeuesWhatRedisLost: after the queue is wiped, the sweeper
// hands over again the deliveries still pending in PostgreSQL (once they
// are overdue by the grace), and leaves finished ones alone.
func TestSweepRequeuesWhatRedisLost(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rcv := newReceiver(t, status(200, ""))
	f.endpoint(rcv.URL, webhook.AllEvents)
	done := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_1")))
	lost := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_2")))
	q := &fakeQueue{}
	if n, err := f.svc.Relay(f.ctx, q, 100); n != 2 || err != nil {
		t.Fatalf("relay = %d, %v", n, err)
	}
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, done.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.Sweep(f.ctx, q, 0); n != 0 || err != nil {
		t.Fatalf("sweep with everything queued = %d, %v; want 0", n, err)
	}
	q.flush()
	f.clock.Advance(time.Minute)
	if n, err := f.svc.Sweep(f.ctx, q, 2*time.Minute); n != 0 || err != nil {
		t.Fatalf("sweep within the grace = %d, %v; want 0", n, err)
	}
	if n, err := f.svc.Sweep(f.ctx, q, 30*time.Second); n != 1 || err != nil {
		t.Fatalf("sweep after the flush = %d, %v; want 1", n, err)
	}
	if _, ok := q.tasks[lost.ID]; !ok || len(q.tasks) != 1 {
		t.Fatalf("queue after the sweep = %v; want only %s", q.tasks, lost.ID)
	}
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, lost.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.onlyDelivery(lost.EventID); got.Status != webhook.DeliverySucceeded {
		t.Fatalf("lost delivery = %s after the sweep; want succeeded", got.Status)
	}
}
