package delivery

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/testclock"
	"github.com/paylink/paylink/internal/testdns"
	"github.com/paylink/paylink/internal/webhook"
)

const testKeys = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// setup is both services' configurations, for a test to change.
type setup struct {
	webhook.Config
	deliveryConfig
}

// deliveryConfig names Config as a field of setup.
type deliveryConfig = Config

// fixture is one test's database, merchant, webhook service (endpoints,
// events) and delivery service.
type fixture struct {
	t        testing.TB
	db       *postgres.DB
	clock    *testclock.Clock
	resolver *testdns.Resolver
	hooks    *webhook.Service
	svc      *Service
	merchant *merchant.Merchant
	ctx      context.Context
}

// newFixture builds a service allowing private addresses (receivers are
// httptest servers on loopback) unless edit says otherwise.
func newFixture(t testing.TB, edit ...func(*setup)) *fixture {
	t.Helper()
	db := pgtest.New(t)
	keyring, err := seal.Parse(testKeys)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, clock: testclock.New(), resolver: &testdns.Resolver{}, ctx: context.Background()}
	merchants := merchant.NewService(keyring, merchant.NewUsage(), f.clock.Now)
	cfg := setup{
		Config: webhook.Config{Keyring: keyring, Now: f.clock.Now,
			Guard: &webhook.Guard{AllowPrivate: true, Resolver: f.resolver}, Timeout: 5 * time.Second},
		deliveryConfig: Config{Merchants: merchants, Now: f.clock.Now,
			Schedule: []time.Duration{10 * time.Second, time.Minute, time.Hour}, DisableAfter: 72 * time.Hour},
	}
	for _, e := range edit {
		e(&cfg)
	}
	f.hooks = webhook.NewService(db, cfg.Config)
	cfg.Webhooks = f.hooks
	f.svc = NewService(db, cfg.deliveryConfig)
	f.tx(func(tx pgx.Tx) error {
		su := merchant.SignUp{Name: "Acme Mugs", Email: "ops@acme.test", Password: "correct horse battery"}
		f.merchant, _, err = merchants.SignUp(f.ctx, tx, su, "not-a-real-hash")
		return err
	})
	return f
}

func (f *fixture) tx(fn func(pgx.Tx) error) {
	f.t.Helper()
	if err := f.db.WithTx(f.ctx, fn); err != nil {
		f.t.Fatal(err)
	}
}

// endpoint registers rawURL for events and returns it with its secret.
func (f *fixture) endpoint(rawURL string, events ...string) *webhook.Endpoint {
	f.t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		f.t.Fatal(err)
	}
	var e *webhook.Endpoint
	f.tx(func(tx pgx.Tx) error {
		e, err = f.hooks.CreateEndpoint(f.ctx, tx, f.merchant.ID, webhook.NewEndpoint{URL: u, Events: events})
		return err
	})
	return e
}

// payment is a payment object as API.md describes it.
func payment(id string) map[string]any {
	return map[string]any{
		"id": id, "amount": 2500, "currency": "USD", "status": "succeeded", "amount_refunded": 0,
		"payment_link": "plink_01kaqv7n2v8d3m2k3v9x5h4q7z", "failure_code": nil, "metadata": map[string]string{"order_id": "A-17"},
		"payment_method": map[string]string{"type": "card", "brand": "visa", "last4": "4242"},
		"customer":       map[string]string{"email": "ada@example.test", "name": "Ada Shopper"},
		"created_at":     "2026-01-02T03:04:05Z",
	}
}

// record records an event in a transaction of its own, as checkout does.
func (f *fixture) record(eventType string, data any) string {
	f.t.Helper()
	var evtID string
	f.tx(func(tx pgx.Tx) error {
		var err error
		evtID, err = webhook.Record(f.ctx, tx, f.merchant.ID, eventType, data, f.clock.Now())
		return err
	})
	return evtID
}

// deliveries returns the deliveries of an event.
func (f *fixture) deliveries(evtID string) []*webhook.Delivery {
	f.t.Helper()
	ds, _, err := f.hooks.ListDeliveries(f.ctx, f.db.Pool, f.merchant.ID, webhook.DeliveryFilter{EventID: evtID}, 100, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return ds
}

// onlyDelivery returns the single delivery of an event.
func (f *fixture) onlyDelivery(evtID string) *webhook.Delivery {
	f.t.Helper()
	ds := f.deliveries(evtID)
	if len(ds) != 1 {
		f.t.Fatalf("event %s has %d deliveries, want 1", evtID, len(ds))
	}
	return ds[0]
}

// received is one request a receiver got.
type received struct {
	Header http.Header
	Body   []byte
}

// receiver is a merchant's webhook endpoint: it answers with the next of
// its scripted handlers (the last one repeats) and reports each request.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	answers []http.HandlerFunc
	got     chan received
}

func newReceiver(t *testing.T, answers ...http.HandlerFunc) *receiver {
	r := &receiver{answers: answers, got: make(chan received, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.got <- received{Header: req.Header.Clone(), Body: body}
		r.mu.Lock()
		h := r.answers[0]
		if len(r.answers) > 1 {
			r.answers = r.answers[1:]
		}
		r.mu.Unlock()
		h(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

// next returns the next request the receiver got.
func (r *receiver) next(t *testing.T) received {
	t.Helper()
	select {
	case got := <-r.got:
		return got
	case <-time.After(30 * time.Second):
		t.Fatal("receiver got no request")
		return received{}
	}
}

// verify is an independent Standard Webhooks verifier, written from the
// specification rather than from Sign: it returns nil if one of the
// space-separated v1 signatures is HMAC-SHA256(base64-decoded secret,
// id.timestamp.body).
func verify(secret string, h http.Header, body []byte) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("missing webhook headers: id=%q timestamp=%q signature=%q", id, ts, sigs)
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		return fmt.Errorf("webhook-timestamp %q is not unix seconds", ts)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no signature in %q matches", sigs)
}
