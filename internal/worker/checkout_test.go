package worker

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/redistest"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/testclock"
)

// TestCheckoutTasks runs the link-expiry and settle handlers the scheduler
// enqueues: links past expiry are stored expired with one
// payment_link.expired event each, and a second run finds nothing to do.
func TestCheckoutTasks(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	rdb, _ := redistest.New(t)
	ctx := context.Background()
	clk := testclock.At(time.Now().UTC())
	ring, err := seal.Parse("1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := links.NewSigner([]links.SigningKey{{ID: "k", Secret: bytes.Repeat([]byte{1}, 32)}})
	base, _ := url.Parse("http://paylink.test")
	linkSvc := links.NewService(signer, base, clk.Now)
	checkoutSvc := checkout.NewService(processor.NewSimulator(bytes.Repeat([]byte{2}, 32), processor.NewRedisKeys(rdb), clk.Now), linkSvc, clk.Now)
	merchants := merchant.NewService(ring, merchant.NewUsage(), clk.Now)
	var short, long *links.Link
	err = db.WithTx(ctx, func(tx pgx.Tx) error {
		m, _, err := merchants.SignUp(ctx, tx, merchant.SignUp{Name: "Shop", Email: "tasks@shop.test", Password: "x"}, "hash")
		if err != nil {
			return err
		}
		minute, day := int64(60), int64(86400)
		amount := money.Amount{Minor: 100, Currency: money.USD}
		if short, err = linkSvc.Create(ctx, tx, m.ID, links.NewLink{Amount: amount, ExpiresIn: &minute}); err != nil {
			return err
		}
		long, err = linkSvc.Create(ctx, tx, m.ID, links.NewLink{Amount: amount, ExpiresIn: &day})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: db,
		Redis: asynq.RedisClientOpt{Addr: "127.0.0.1:1"}, Concurrency: 1, ShutdownTimeout: time.Second,
		IdempotencyRetention: 48 * time.Hour, Idempotency: idempotency.NewStore(ring), Now: clk.Now, Links: linkSvc, Checkout: checkoutSvc, CheckoutEvery: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Minute)
	for range 2 {
		if err := w.expireLinks(ctx, asynq.NewTask(TypeExpireLinks, nil)); err != nil {
			t.Fatal(err)
		}
		if err := w.settle(ctx, asynq.NewTask(TypeSettle, nil)); err != nil {
			t.Fatal(err)
		}
	}
	status := func(id string) string {
		var st string
		if err := db.Pool.QueryRow(ctx, `SELECT status FROM payment_links WHERE id = $1`, id).Scan(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	var events int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE type = 'payment_link.expired' AND data->>'id' = $1`, short.ID).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if status(short.ID) != "expired" || status(long.ID) != "active" || events != 1 {
		t.Fatalf("short %s, long %s, %d expired events; want expired, active, 1", status(short.ID), status(long.ID), events)
	}
}
