package webhook

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
	f.endpoint("https://a.shop.test/", AllEvents)
	f.endpoint("https://b.shop.test/", AllEvents)
	var ids []string
	for range 3 {
		for _, d := range f.deliveries(f.record(PaymentSucceeded, payment("pay_1"))) {
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
	f.endpoint(rcv.URL, AllEvents)
	done := f.onlyDelivery(f.record(PaymentSucceeded, payment("pay_1")))
	lost := f.onlyDelivery(f.record(PaymentSucceeded, payment("pay_2")))
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
	if got := f.onlyDelivery(lost.EventID); got.Status != DeliverySucceeded {
		t.Fatalf("lost delivery = %s after the sweep; want succeeded", got.Status)
	}
}

// TestReceiptsAreDerivedOncePerPayment: a payment.succeeded event queues a
// receipt for the shopper (amount formatted, no card number) and, only
// when the merchant asked, an e-mail to the merchant. Redelivering the
// event, or a second event for the same payment, queues nothing more.
func TestReceiptsAreDerivedOncePerPayment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.endpoint("https://a.shop.test/", AllEvents)
	p := payment("pay_01kaqv7n2tq1w4e0m8a6r3c5yb")
	// A card number that slipped into free text must not reach the e-mail.
	p["customer"] = map[string]string{"email": "ada@example.test", "name": "Ada 4242 4242 4242 4242"}
	f.tx(func(tx pgx.Tx) error {
		_, err := f.svc.cfg.Merchants.SetPaymentEmails(f.ctx, tx, f.merchant.ID, false)
		return err
	})
	evtID := f.record(PaymentSucceeded, p)
	f.record(PaymentRefunded, payment("pay_refunded")) // not in notify_on: no e-mail
	if n, err := f.svc.ProcessEvents(f.ctx, 100); n != 2 || err != nil {
		t.Fatalf("ProcessEvents = %d, %v; want the 2 payment events", n, err)
	}
	mails := f.emails()
	if len(mails) != 1 {
		t.Fatalf("e-mails = %+v; want the receipt only (merchant e-mails are off)", mails)
	}
	r := mails[0]
	if r.to != "ada@example.test" || r.key != "receipt:pay_01kaqv7n2tq1w4e0m8a6r3c5yb" ||
		!strings.Contains(r.subject, "$25.00") || !strings.Contains(r.body, "$25.00") ||
		!strings.Contains(r.body, "Acme Mugs") || !strings.Contains(r.body, "Visa ending in 4242") {
		t.Fatalf("receipt = %+v", r)
	}
	if strings.Contains(r.body, "4242 4242 4242 4242") || strings.Contains(r.body, "4242424242424242") {
		t.Fatalf("receipt contains a card number:\n%s", r.body)
	}

	f.tx(func(tx pgx.Tx) error {
		if _, err := f.svc.cfg.Merchants.SetPaymentEmails(f.ctx, tx, f.merchant.ID, true); err != nil {
			return err
		}
		_, err := f.svc.Redeliver(f.ctx, tx, f.merchant.ID, evtID, "")
		return err
	})
	f.record(PaymentSucceeded, p) // the same payment reported twice
	f.record(PaymentSucceeded, payment("pay_second"))
	if n, err := f.svc.ProcessEvents(f.ctx, 100); n != 2 || err != nil {
		t.Fatalf("ProcessEvents = %d, %v; want the 2 new events", n, err)
	}
	byKey := map[string]email{}
	for _, m := range f.emails() {
		if _, dup := byKey[m.key]; dup {
			t.Fatalf("two e-mails with key %s", m.key)
		}
		byKey[m.key] = m
	}
	if len(byKey) != 4 {
		t.Fatalf("e-mails %v; want receipts for both payments and merchant e-mails for both", keys(byKey))
	}
	me := byKey["notify:payment.succeeded:pay_second:ops@acme.test"]
	if me.to != "ops@acme.test" || !strings.Contains(me.body, "$25.00") || !strings.Contains(me.body, "ada@example.test") {
		t.Fatalf("merchant e-mail = %+v", me)
	}
	if n, _ := f.svc.ProcessEvents(f.ctx, 100); n != 0 {
		t.Fatalf("a second pass processed %d events", n)
	}
}

func keys(m map[string]email) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
