package worker

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/webhook"
)

// TestRetentionKeepsWhatIsKeptForever runs the retention tasks over a
// year of history: old finished deliveries with their attempts, sent
// e-mails and old Idempotency-Key records go; payments, the ledger,
// events, pending deliveries, unsent e-mails and everything recent stay,
// the ledger still verifies, and a key inside its retention still
// replays its answer.
func TestRetentionKeepsWhatIsKeptForever(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	now := time.Now()
	keyring, _ := seal.Parse(testKeys)
	idem := idempotency.NewStore(keyring)
	mer := id.New("mer")
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO merchants (id, name, email, password_hash) VALUES ($1, 'Acme', 'ops@acme.test', 'x')`, mer)
	exec(`INSERT INTO webhook_endpoints (id, merchant_id, url, events, secret_sealed, created_at)
		VALUES ($1, $2, 'https://a.shop.test/', '{*}', '\x00', now())`, id.New("we"), mer)
	for _, age := range []time.Duration{365 * 24 * time.Hour, 40 * 24 * time.Hour, time.Hour} {
		at := now.Add(-age)
		for i := range 3 {
			payID := id.NewAt("pay", at)
			err := db.WithTx(ctx, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `INSERT INTO payments (id, merchant_id, amount, currency, status, customer_email,
					customer_name, created_at, updated_at) VALUES ($1, $2, 1000, 'USD', 'succeeded', 'a@x.test', 'A', $3, $3)`,
					payID, mer, at); err != nil {
					return err
				}
				if _, err := ledger.Post(ctx, tx, ledger.Transaction{Kind: "payment", Reference: payID, Entries: []ledger.Entry{
					{Account: ledger.Account{Kind: ledger.CardIn, Currency: money.USD}, Amount: -1000},
					{Account: ledger.Account{Kind: ledger.Merchant, Owner: mer, Currency: money.USD}, Amount: 1000}}}); err != nil {
					return err
				}
				if _, err := webhook.Record(ctx, tx, mer, webhook.PaymentSucceeded, map[string]string{"id": payID}, at); err != nil {
					return err
				}
				return notify.QueueOnceAll(ctx, tx, []notify.Keyed{{Key: "receipt:" + payID,
					Email: notify.Email{To: "a@x.test", Subject: "Receipt", Text: "Thanks"}}}, at)
			})
			if err != nil {
				t.Fatal(err)
			}
			if i < 2 { // the third stays pending / unsent
				exec(`WITH a AS (INSERT INTO webhook_attempts (delivery_id, n, merchant_id, attempted_at, status_code, latency_ms)
					SELECT id, 1, merchant_id, $2, 200, 1 FROM webhook_deliveries WHERE merchant_id = $1 AND status = 'pending' AND created_at = $2)
					UPDATE webhook_deliveries SET status = 'succeeded', attempts = 1, completed_at = $2 WHERE merchant_id = $1 AND status = 'pending' AND created_at = $2`, mer, at)
				exec(`UPDATE emails SET sent_at = $2 WHERE dedupe_key = $1`, "receipt:"+payID, at)
			}
		}
	}
	keys := map[string]time.Duration{"k-49h": 49 * time.Hour, "k-47h": 47 * time.Hour}
	for key, age := range keys {
		req := idempotency.Request{Scope: mer, Key: key, Fingerprint: []byte("0123456789abcdef0123456789abcdef")}
		if err := idem.Save(ctx, db.Pool, req, idempotency.Response{Status: 201, Body: []byte(`{"id":"` + key + `"}`)}, now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	count := func() map[string]int {
		out := map[string]int{}
		for _, table := range []string{"payments", "ledger_transactions", "ledger_entries", "ledger_balances", "ledger_accounts",
			"events", "webhook_deliveries", "webhook_attempts", "emails", "idempotency_keys"} {
			var n int
			if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			out[table] = n
		}
		return out
	}
	before := count()

	w := &Worker{d: Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: db, Now: time.Now,
		IdempotencyRetention: 48 * time.Hour, WebhookRetention: 30 * 24 * time.Hour, EmailRetention: 30 * 24 * time.Hour}}
	if err := w.purgeOld(ctx, asynq.NewTask(TypeRetention, nil)); err != nil {
		t.Fatal(err)
	}
	if err := w.cleanIdempotency(ctx, asynq.NewTask(TypeIdempotencyCleanup, nil)); err != nil {
		t.Fatal(err)
	}
	after := count()
	for _, table := range []string{"payments", "ledger_transactions", "ledger_entries", "ledger_balances", "ledger_accounts", "events"} {
		if after[table] != before[table] || before[table] == 0 {
			t.Errorf("%s: %d rows before, %d after; kept forever", table, before[table], after[table])
		}
	}
	// Of 9 deliveries and e-mails, the 4 finished ones of the two old
	// batches go; the 3 pending/unsent and the 2 recent finished stay.
	if after["webhook_deliveries"] != 5 || after["webhook_attempts"] != 2 || after["emails"] != 5 || after["idempotency_keys"] != 1 {
		t.Errorf("after retention: %v; want 5 deliveries, 2 attempts, 5 e-mails, 1 key", after)
	}
	if rep, err := ledger.Verify(ctx, db.Pool); err != nil || !rep.OK() {
		t.Fatalf("ledger verify after retention: %+v, %v", rep, err)
	}
	var prev *idempotency.Response
	err := db.WithTx(ctx, func(tx pgx.Tx) (err error) {
		prev, err = idem.Begin(ctx, tx, idempotency.Request{Scope: mer, Key: "k-47h", Fingerprint: []byte("0123456789abcdef0123456789abcdef")})
		return err
	})
	if err != nil || prev == nil || string(prev.Body) != `{"id":"k-47h"}` {
		t.Fatalf("replay of a key inside retention = %+v, %v; want its stored answer", prev, err)
	}
}
