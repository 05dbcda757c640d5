package worker

import (
	"context"
	"fmt"
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
				_, err := notify.QueueOnce(ctx, tx, "receipt:"+payID, notify.Email{To: "a@x.test", Subject: "Receipt", Text: "Thanks"}, at)
				return err
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
		prev, err = idem.Begin(ctx, tx, idempotency.Request{Scope: mer, Key: "k-47h", Fingerprint: []byte("0123456789abcdef0123456789abcdef")}, now)
		return err
	})
	if err != nil || prev == nil || string(prev.Body) != `{"id":"k-47h"}` {
		t.Fatalf("replay of a key inside retention = %+v, %v; want its stored answer", prev, err)
	}
}

// TestRetentionBatchesAreBounded: sent e-mails and Idempotency-Key records
// past retention go at most batch rows per statement, an unsent e-mail or
// a record inside retention never, and an e-mail another transaction holds
// is skipped rather than waited for.
func TestRetentionBatchesAreBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	now := time.Now()
	old, cutoff := now.Add(-40*24*time.Hour), now.Add(-30*24*time.Hour)
	keyring, _ := seal.Parse(testKeys)
	idem := idempotency.NewStore(keyring)
	queue := func(key string, at time.Time, sent bool) {
		t.Helper()
		err := db.WithTx(ctx, func(tx pgx.Tx) error {
			if _, err := notify.QueueOnce(ctx, tx, key, notify.Email{To: "a@x.test", Subject: "Receipt", Text: "Thanks"}, at); err != nil {
				return err
			}
			if sent {
				_, err := tx.Exec(ctx, `UPDATE emails SET sent_at = $2 WHERE dedupe_key = $1`, key, at)
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		queue(fmt.Sprintf("old-sent-%d", i), old.Add(time.Duration(i)*time.Minute), true)
	}
	queue("old-unsent", old, false)
	queue("recent-sent", now, true)
	for i := range 5 {
		req := idempotency.Request{Scope: "mer_x", Key: fmt.Sprintf("old-%d", i), Fingerprint: make([]byte, 32)}
		if err := idem.Save(ctx, db.Pool, req, idempotency.Response{Status: 201, Body: []byte(`{}`)}, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := idem.Save(ctx, db.Pool, idempotency.Request{Scope: "mer_x", Key: "recent", Fingerprint: make([]byte, 32)},
		idempotency.Response{Status: 201, Body: []byte(`{}`)}, now); err != nil {
		t.Fatal(err)
	}

	// Another transaction holds the oldest sent e-mail.
	holder, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(context.Background())
	if _, err := holder.Exec(ctx, `SELECT 1 FROM emails WHERE dedupe_key = 'old-sent-0' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	batches := func(step func(int) (int64, error)) []int64 {
		t.Helper()
		var out []int64
		for {
			n, err := step(2)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
			if n < 2 {
				return out
			}
		}
	}
	emails := batches(func(b int) (int64, error) { return notify.PurgeDone(ctx, db.Pool, cutoff, b) })
	if fmt.Sprint(emails) != "[2 2 0]" {
		t.Errorf("e-mail batches %v; want [2 2 0] (the held one skipped)", emails)
	}
	holder.Rollback(ctx)
	if n, err := notify.PurgeDone(ctx, db.Pool, cutoff, 2); n != 1 || err != nil {
		t.Errorf("after the holder let go: %d, %v; want the 1 it held", n, err)
	}
	keys := batches(func(b int) (int64, error) { return idempotency.DeleteBatch(ctx, db.Pool, now.Add(-48*time.Hour), b) })
	if fmt.Sprint(keys) != "[2 2 1]" {
		t.Errorf("Idempotency-Key batches %v; want [2 2 1]", keys)
	}
	var left []string
	rows, err := db.Pool.Query(ctx, `SELECT dedupe_key FROM emails UNION ALL SELECT key FROM idempotency_keys ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	if left, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(left) != "[old-unsent recent recent-sent]" {
		t.Errorf("left %v; want the unsent e-mail and what is inside retention", left)
	}
}
