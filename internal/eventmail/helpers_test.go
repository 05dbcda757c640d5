package eventmail

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/testclock"
	"github.com/paylink/paylink/internal/webhook"
)

const testKeys = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// fixture is one test's database, merchant, e-mail deriving service and
// the webhook service that records and redelivers events.
type fixture struct {
	t        testing.TB
	db       *postgres.DB
	clock    *testclock.Clock
	svc      *Service
	hooks    *webhook.Service
	merchant *merchant.Merchant
	ctx      context.Context
}

// newFixture builds the services, with edit's changes to the Config.
func newFixture(t testing.TB, edit ...func(*Config)) *fixture {
	t.Helper()
	db := pgtest.New(t)
	keyring, err := seal.Parse(testKeys)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, clock: testclock.New(), ctx: context.Background()}
	merchants := merchant.NewService(keyring, merchant.NewUsage(), f.clock.Now)
	cfg := Config{Merchants: merchants, Now: f.clock.Now}
	for _, e := range edit {
		e(&cfg)
	}
	f.svc = NewService(db, cfg)
	f.hooks = webhook.NewService(db, webhook.Config{Keyring: keyring, Now: f.clock.Now,
		Guard: &webhook.Guard{AllowPrivate: true}, Timeout: 5 * time.Second})
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

// endpoint registers rawURL for events.
func (f *fixture) endpoint(rawURL string, events ...string) {
	f.t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		f.t.Fatal(err)
	}
	f.tx(func(tx pgx.Tx) error {
		_, err := f.hooks.CreateEndpoint(f.ctx, tx, f.merchant.ID, webhook.NewEndpoint{URL: u, Events: events})
		return err
	})
}

// email is a queued e-mail.
type email struct{ to, subject, body, key string }

// emails returns every queued e-mail, oldest first.
func (f *fixture) emails() []email {
	f.t.Helper()
	rows, err := f.db.Pool.Query(f.ctx, `SELECT to_addr, subject, body, coalesce(dedupe_key, '') FROM emails ORDER BY id`)
	if err != nil {
		f.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (email, error) {
		var e email
		err := r.Scan(&e.to, &e.subject, &e.body, &e.key)
		return e, err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func keys(m map[string]email) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
