package worker

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/paylink/paylink/internal/eventmail"
	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/redistest"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/smtpsink"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/webhook"
	"github.com/paylink/paylink/internal/webhook/delivery"
)

const testKeys = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// childEnv, when set, makes the test binary run a worker instead of the
// tests, so a test can kill a real worker process with SIGKILL.
const childEnv = "PAYLINK_TEST_WORKER_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		runChildWorker()
		return
	}
	os.Exit(m.Run())
}

// runChildWorker serves tasks until the process is killed.
func runChildWorker() {
	ctx := context.Background()
	db, err := postgres.Open(ctx, os.Getenv("PAYLINK_TEST_CHILD_DB"), 4)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	timeout, _ := time.ParseDuration(os.Getenv("PAYLINK_TEST_CHILD_TIMEOUT"))
	d, err := workerDeps(db, os.Getenv("PAYLINK_TEST_CHILD_REDIS"), timeout, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	d.WebhookConcurrency, _ = strconv.Atoi(os.Getenv("PAYLINK_TEST_CHILD_WEBHOOK_CONCURRENCY"))
	if os.Getenv(holdPayoutEnv) != "" {
		d.Processor = holdPayout{d.Processor}
	}
	w, err := New(d)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := w.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// workerDeps wires a worker as run does, with test timings: a fast poll,
// retries in milliseconds, no automatic sweep (tests sweep by hand).
func workerDeps(db *postgres.DB, redisURL string, timeout time.Duration, log *slog.Logger) (Deps, error) {
	keyring, err := seal.Parse(testKeys)
	if err != nil {
		return Deps{}, err
	}
	redisOpt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		return Deps{}, err
	}
	merchants := merchant.NewService(keyring, merchant.NewUsage(), time.Now)
	from, _ := mail.ParseAddress("Paylink <receipts@paylink.test>")
	redisClientOpt, err := redis.ParseURL(redisURL)
	if err != nil {
		return Deps{}, err
	}
	return Deps{
		Wallet: wallet.NewService(db, redis.NewClient(redisClientOpt), keyring,
			wallet.Config{SessionTTL: time.Hour, MaxFailures: 10, Lockout: time.Minute}, time.Now),
		Processor: processor.NewSimulator(bytes.Repeat([]byte{4}, 32), processor.NewRedisKeys(redis.NewClient(redisClientOpt)), time.Now),
		Log:       log, DB: db, Redis: redisOpt, Concurrency: 4, ShutdownTimeout: 5 * time.Second,
		IdempotencyRetention: 48 * time.Hour, Idempotency: idempotency.NewStore(keyring), Now: time.Now,
		Deliveries: delivery.NewService(db, delivery.Config{Webhooks: testWebhooks(db, keyring, timeout), Merchants: merchants,
			Now: time.Now, Schedule: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond},
			DisableAfter: 72 * time.Hour}),
		EventMail:      eventmail.NewService(db, eventmail.Config{Merchants: merchants, Now: time.Now}),
		Mail:           notify.NewSender(db, notify.SMTP{From: from, Timeout: 10 * time.Second}, time.Now),
		WebhookTimeout: timeout, MailTimeout: 10 * time.Second,
		OutboxPoll: 20 * time.Millisecond, OutboxSweep: time.Hour,
		// No link or checkout service here: their periodic tasks must not
		// fire during a test (they would fail every second).
		CheckoutEvery: time.Hour,
	}, nil
}

// testWebhooks is the webhook service of the tests: loopback receivers
// allowed, each request bounded by timeout.
func testWebhooks(db *postgres.DB, keyring *seal.Keyring, timeout time.Duration) *webhook.Service {
	return webhook.NewService(db, webhook.Config{Keyring: keyring, Now: time.Now, Timeout: timeout,
		Guard: &webhook.Guard{AllowPrivate: true, Resolver: net.DefaultResolver}})
}

// harness is one test's database, Redis database, merchant and worker.
type harness struct {
	t        testing.TB
	ctx      context.Context
	db       *postgres.DB
	dbURL    string
	rdb      *redis.Client
	redisURL string
	deps     Deps
	webhooks *webhook.Service // endpoints and events, as the API manages them
	merchant *merchant.Merchant
	logs     *syncBuffer
	finished chan finished
}

// finished reports a task the worker has run.
type finished struct {
	typ, id string
	err     error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHarness(t testing.TB, timeout time.Duration, edit ...func(*Deps)) *harness {
	t.Helper()
	db, dbURL := pgtest.NewWithURL(t)
	rdb, redisURL := redistest.New(t)
	h := &harness{t: t, ctx: context.Background(), db: db, dbURL: dbURL, rdb: rdb, redisURL: redisURL,
		logs: &syncBuffer{}, finished: make(chan finished, 100)}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker logs:\n%s", h.logs.String())
		}
	})
	d, err := workerDeps(db, redisURL, timeout, slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edit {
		e(&d)
	}
	h.deps = d
	keyring, _ := seal.Parse(testKeys)
	h.webhooks = testWebhooks(db, keyring, timeout)
	merchants := merchant.NewService(keyring, merchant.NewUsage(), time.Now)
	h.tx(func(tx pgx.Tx) (err error) {
		su := merchant.SignUp{Name: "Acme Mugs", Email: "ops@acme.test", Password: "correct horse battery"}
		h.merchant, _, err = merchants.SignUp(h.ctx, tx, su, "not-a-real-hash")
		return err
	})
	return h
}

func (h *harness) tx(fn func(pgx.Tx) error) {
	h.t.Helper()
	if err := h.db.WithTx(h.ctx, fn); err != nil {
		h.t.Fatal(err)
	}
}

// newWorker builds a worker that reports every task it runs.
func (h *harness) newWorker() *Worker {
	h.t.Helper()
	w, err := New(h.deps)
	if err != nil {
		h.t.Fatal(err)
	}
	w.mux.Use(func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			err := next.ProcessTask(ctx, t)
			id, _ := asynq.GetTaskID(ctx)
			h.finished <- finished{typ: t.Type(), id: id, err: err}
			return err
		})
	})
	return w
}

// run runs w until the test ends.
func (h *harness) run(w *Worker) {
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	h.t.Cleanup(func() {
		cancel()
		if err := within(h.t, done, "worker stop"); err != nil {
			h.t.Errorf("worker: %v", err)
		}
	})
}

// waitLimit bounds every wait for the worker or a receiver to do
// something: generous, so a loaded machine is not a failure.
const waitLimit = 2 * time.Minute

// within returns the next value of ch, failing the test if none comes
// within waitLimit; what names it in the failure.
func within[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("no %s within %s", what, waitLimit)
		panic("unreachable")
	}
}

// waitSucceeded waits until task id of type typ has run without error,
// and returns the errors of the runs before.
func (h *harness) waitSucceeded(typ, id string, within time.Duration) []error {
	h.t.Helper()
	var failures []error
	deadline := time.After(within)
	for {
		select {
		case f := <-h.finished:
			if f.typ != typ || f.id != id {
				continue
			}
			if f.err == nil {
				return failures
			}
			failures = append(failures, f.err)
		case <-deadline:
			h.t.Fatalf("task %s %s did not succeed within %s; failures so far: %v", typ, id, within, failures)
		}
	}
}

// endpoint registers rawURL for every event and returns its secret.
func (h *harness) endpoint(rawURL string) string {
	h.t.Helper()
	u, _ := url.Parse(rawURL)
	var e *webhook.Endpoint
	h.tx(func(tx pgx.Tx) (err error) {
		e, err = h.webhooks.CreateEndpoint(h.ctx, tx, h.merchant.ID, webhook.NewEndpoint{URL: u, Events: []string{webhook.AllEvents}})
		return err
	})
	return e.Secret
}

// pay records a payment.succeeded event as checkout does and returns the
// event and its one delivery.
func (h *harness) pay(paymentID string, customerName string) (string, string) {
	h.t.Helper()
	var evtID string
	h.tx(func(tx pgx.Tx) (err error) {
		evtID, err = webhook.Record(h.ctx, tx, h.merchant.ID, webhook.PaymentSucceeded, map[string]any{
			"id": paymentID, "amount": 2500, "currency": "USD", "status": "succeeded", "amount_refunded": 0,
			"payment_link":   "plink_01kaqv7n2v8d3m2k3v9x5h4q7z",
			"payment_method": map[string]string{"type": "card", "brand": "visa", "last4": "4242"},
			"customer":       map[string]string{"email": "ada@example.test", "name": customerName},
			"created_at":     "2026-01-02T03:04:05Z",
		}, time.Now())
		return err
	})
	var dlvID string
	if err := h.db.Pool.QueryRow(h.ctx, `SELECT coalesce(max(id), '') FROM webhook_deliveries WHERE event_id = $1`, evtID).Scan(&dlvID); err != nil {
		h.t.Fatal(err)
	}
	return evtID, dlvID
}

// delivery reads a delivery's status and attempts' status codes.
func (h *harness) delivery(id string) (string, []int) {
	h.t.Helper()
	var status string
	if err := h.db.Pool.QueryRow(h.ctx, `SELECT status FROM webhook_deliveries WHERE id = $1`, id).Scan(&status); err != nil {
		h.t.Fatal(err)
	}
	rows, _ := h.db.Pool.Query(h.ctx, `SELECT coalesce(status_code, 0) FROM webhook_attempts WHERE delivery_id = $1 ORDER BY n`, id)
	codes, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		h.t.Fatal(err)
	}
	return status, codes
}

// request is what a receiver got.
type request struct {
	header http.Header
	body   []byte
}

// receiver answers with its handlers in turn (the last repeats).
func receiver(t *testing.T, handlers ...http.HandlerFunc) (*httptest.Server, chan request) {
	got := make(chan request, 100)
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- request{r.Header.Clone(), body}
		mu.Lock()
		h := handlers[0]
		if len(handlers) > 1 {
			handlers = handlers[1:]
		}
		mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func answer(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

// verifySignature is an independent Standard Webhooks check.
func verifySignature(secret string, r request) bool {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.header.Get("webhook-id") + "." + r.header.Get("webhook-timestamp") + "." + string(r.body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(r.header.Get("webhook-signature")) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

// TestWorkerDeliveryOutcomes runs deliveries through the real relay,
// Asynq and Redis: each receiver script ends as expected, with every
// attempt recorded.
func TestWorkerDeliveryOutcomes(t *testing.T) {
	t.Parallel()
	slowRelease := make(chan struct{})
	t.Cleanup(func() { close(slowRelease) })
	slow := func(w http.ResponseWriter, r *http.Request) {
		select { // held past the timeout; Paylink hangs up first
		case <-slowRelease:
		case <-r.Context().Done():
		}
	}
	redirect := func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) }
	tests := []struct {
		name       string
		script     []http.HandlerFunc
		wantStatus string
		wantCodes  []int
	}{
		{"500, 500, then 200: delivered on the third attempt", []http.HandlerFunc{answer(500), answer(500), answer(200)}, "succeeded", []int{500, 500, 200}},
		{"slower than the timeout: retried", []http.HandlerFunc{slow, answer(204)}, "succeeded", []int{0, 204}},
		{"410: endpoint disabled, no retry", []http.HandlerFunc{answer(410)}, "failed", []int{410}},
		{"redirect not followed, then given up", []http.HandlerFunc{redirect}, "failed", []int{302, 302, 302, 302}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, 500*time.Millisecond)
			srv, got := receiver(t, tc.script...)
			secret := h.endpoint(srv.URL + "/hook")
			w := h.newWorker()
			h.run(w)
			evtID, dlvID := h.pay("pay_"+strings.ReplaceAll(tc.name[:3], " ", "_"), "Ada Shopper")
			// The last run of the task either succeeds or gives up
			// (SkipRetry); wait for the delivery to leave "pending".
			deadline := time.After(time.Minute)
			for status, _ := h.delivery(dlvID); status == "pending"; status, _ = h.delivery(dlvID) {
				select {
				case <-h.finished:
				case <-deadline:
					t.Fatalf("delivery still pending after a minute")
				}
			}
			status, codes := h.delivery(dlvID)
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

// TestRedisFlushedBeforeDelivery: the delivery was committed and handed to
// Asynq, then Redis lost everything. The sweeper finds it pending in
// PostgreSQL and it is delivered.
func TestRedisFlushedBeforeDelivery(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 5*time.Second)
	srv, got := receiver(t, answer(200))
	h.endpoint(srv.URL)
	w := h.newWorker()
	_, dlvID := h.pay("pay_flushed", "Ada Shopper")
	w.relay(h.ctx, map[string]time.Time{})
	if _, err := w.queue.inspector.GetTaskInfo(QueueWebhooks, dlvID); err != nil {
		t.Fatalf("task not in Redis after the relay: %v", err)
	}
	if err := h.rdb.FlushDB(h.ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.queue.inspector.GetTaskInfo(QueueWebhooks, dlvID); !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
		t.Fatalf("task still in Redis after the flush: %v", err)
	}
	h.run(w)
	w.sweep(h.ctx, 0)
	h.waitSucceeded(TypeWebhookDeliver, dlvID, time.Minute)
	if status, codes := h.delivery(dlvID); status != "succeeded" || len(codes) != 1 {
		t.Fatalf("delivery %s with %d attempts; want succeeded once", status, len(codes))
	}
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	// Sweeping again finds the task done and hands over nothing.
	if n, err := h.deps.Deliveries.Sweep(h.ctx, w.queue, 0); n != 0 || err != nil {
		t.Fatalf("second sweep = %d, %v", n, err)
	}
}

// TestWorkerKilledMidDelivery: a worker process is SIGKILLed while the
// receiver holds its request. A new worker delivers it after restart, once
// Asynq's lease on the dead worker's task expired (expireLeases).
func TestWorkerKilledMidDelivery(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 5*time.Second)
	arrived := make(chan struct{}, 1)
	hold := func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done() // until the killed worker's connection drops
	}
	srv, got := receiver(t, hold, answer(200))
	h.endpoint(srv.URL)

	var childLog syncBuffer
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"=1", "PAYLINK_TEST_CHILD_DB="+h.dbURL,
		"PAYLINK_TEST_CHILD_REDIS="+h.redisURL, "PAYLINK_TEST_CHILD_TIMEOUT=5s")
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

	h.expireLeases(t)
	h.run(h.newWorker())
	h.waitSucceeded(TypeWebhookDeliver, dlvID, 3*time.Minute)
	status, codes := h.delivery(dlvID)
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

// expireLeases moves every Asynq lease in the test's Redis a minute and
// more into the past, as the time after a worker's death would: a new
// worker's recoverer, which runs as it starts, then hands the dead
// worker's tasks on at once instead of at its next round a minute later.
// It fails the test when no worker held a lease.
func (h *harness) expireLeases(t *testing.T) {
	t.Helper()
	keys, err := h.rdb.Keys(h.ctx, "asynq:{*}:lease").Result()
	if err != nil {
		t.Fatal(err)
	}
	leases := 0
	for _, key := range keys {
		tasks, err := h.rdb.ZRange(h.ctx, key, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			if err := h.rdb.ZAdd(h.ctx, key, redis.Z{Score: 1, Member: task}).Err(); err != nil {
				t.Fatal(err)
			}
			leases++
		}
	}
	if leases == 0 {
		t.Fatal("no Asynq lease to expire: the killed worker held no task")
	}
}

// TestReceiptEmailedOverSMTP: a payment's receipt reaches a local SMTP
// server with the amount and without the card number; the merchant's
// e-mail goes out once it is turned on; a redelivery sends no e-mail.
func TestReceiptEmailedOverSMTP(t *testing.T) {
	t.Parallel()
	handle, inbox := smtpsink.Chan(10)
	sink, err := smtpsink.Listen("127.0.0.1:0", handle)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	h := newHarness(t, 5*time.Second, func(d *Deps) {
		from, _ := mail.ParseAddress("Paylink <receipts@paylink.test>")
		d.Mail = notify.NewSender(d.DB, notify.SMTP{Host: "127.0.0.1", Port: sink.Addr().Port, From: from, Timeout: 10 * time.Second}, time.Now)
	})
	keyring, _ := seal.Parse(testKeys)
	merchants := merchant.NewService(keyring, merchant.NewUsage(), time.Now)
	h.tx(func(tx pgx.Tx) error {
		_, err := merchants.SetPaymentEmails(h.ctx, tx, h.merchant.ID, true)
		return err
	})
	srv, _ := receiver(t, answer(200))
	h.endpoint(srv.URL)
	h.run(h.newWorker())
	evtID, _ := h.pay("pay_receipt", "Ada 4242424242424242")

	byTo := map[string]string{}
	for range 2 {
		select {
		case m := <-inbox:
			msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
			if strings.Contains(string(m.Data), "4242424242424242") || strings.Contains(string(body), "4242424242424242") {
				t.Fatalf("e-mail to %v contains the card number:\n%s", m.To, body)
			}
			byTo[m.To[0]] = string(body)
		case <-time.After(time.Minute):
			t.Fatalf("e-mails received: %v; want a receipt and a merchant e-mail", byTo)
		}
	}
	receipt := byTo["ada@example.test"]
	if !strings.Contains(receipt, "Amount paid:  $25.00") || !strings.Contains(receipt, "Visa ending in 4242") || !strings.Contains(receipt, "pay_receipt") {
		t.Fatalf("receipt:\n%s", receipt)
	}
	if m := byTo["ops@acme.test"]; !strings.Contains(m, "$25.00") {
		t.Fatalf("merchant e-mail:\n%s", m)
	}

	// Redelivering the event sends webhooks, never another e-mail.
	var dlv []*webhook.Delivery
	h.tx(func(tx pgx.Tx) (err error) {
		dlv, err = h.webhooks.Redeliver(h.ctx, tx, h.merchant.ID, evtID, "")
		return err
	})
	if len(dlv) != 1 {
		t.Fatalf("redelivery made %d deliveries, want 1", len(dlv))
	}
	h.waitSucceeded(TypeWebhookDeliver, dlv[0].ID, time.Minute)
	var n int
	if err := h.db.Pool.QueryRow(h.ctx, `SELECT count(*) FROM emails`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d e-mails queued (%v), want 2", n, err)
	}
}

// BenchmarkDeliveryThroughput records b.N payment events for one endpoint
// (a local receiver answering 204), then measures how fast one worker
// relays and delivers them all through Asynq.
//
//	bin/paylink devenv -fast -- go test ./internal/worker -run '^$' -bench Throughput -benchtime 2000x
func BenchmarkDeliveryThroughput(b *testing.B) {
	h := newHarness(b, 5*time.Second, func(d *Deps) { d.Concurrency = 10 })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	h.endpoint(srv.URL)
	h.finished = make(chan finished, b.N+100)
	for i := range b.N {
		h.pay(fmt.Sprintf("pay_bench_%d", i), "Ada Shopper")
	}
	w := h.newWorker()
	b.ResetTimer()
	start := time.Now()
	h.run(w)
	done := 0
	for done < b.N {
		f := within(b, h.finished, "finished task")
		if f.typ == TypeWebhookDeliver && f.err == nil {
			done++
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}
