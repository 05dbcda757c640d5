package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paylink/paylink/internal/webhook"
)

// TestPurgeFinishedInBoundedBatches: old finished deliveries and their
// attempts go, at most batch per statement; pending ones, recent ones and
// events stay; a delivery another transaction holds is skipped, not
// waited for.
func TestPurgeFinishedInBoundedBatches(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.endpoint("https://a.shop.test/", webhook.AllEvents)
	old := f.clock.Now().Add(-40 * 24 * time.Hour)
	record := func(at time.Time) string {
		var evt string
		f.tx(func(tx pgx.Tx) (err error) {
			evt, err = webhook.Record(f.ctx, tx, f.merchant.ID, webhook.PaymentSucceeded, payment("pay_1"), at)
			return err
		})
		return f.onlyDelivery(evt).ID
	}
	finish := func(id string) {
		if _, err := f.db.Pool.Exec(f.ctx, `
			WITH a AS (INSERT INTO webhook_attempts (delivery_id, n, merchant_id, attempted_at, status_code, latency_ms)
			           SELECT id, 1, merchant_id, created_at, 200, 3 FROM webhook_deliveries WHERE id = $1)
			UPDATE webhook_deliveries SET status = 'succeeded', attempts = 1, completed_at = created_at WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
	}
	var oldDone, kept []string
	for i := range 25 {
		id := record(old.Add(time.Duration(i) * time.Minute))
		finish(id)
		oldDone = append(oldDone, id)
	}
	for range 3 {
		kept = append(kept, record(old)) // pending: still being retried
	}
	for range 5 {
		id := record(f.clock.Now())
		finish(id)
		kept = append(kept, id)
	}
	// Another transaction holds the oldest finished delivery.
	holder, err := f.db.Pool.Begin(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(context.Background())
	if _, err := holder.Exec(f.ctx, `SELECT 1 FROM webhook_deliveries WHERE id = $1 FOR UPDATE`, oldDone[0]); err != nil {
		t.Fatal(err)
	}
	cutoff := f.clock.Now().Add(-30 * 24 * time.Hour)
	var batches []int64
	for {
		n, err := PurgeFinished(f.ctx, f.db.Pool, cutoff, 10)
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, n)
		if n < 10 {
			break
		}
	}
	if len(batches) != 3 || batches[0] != 10 || batches[1] != 10 || batches[2] != 4 {
		t.Fatalf("batches deleted %v; want 10, 10, 4 (the held one skipped)", batches)
	}
	holder.Rollback(f.ctx)
	if n, err := PurgeFinished(f.ctx, f.db.Pool, cutoff, 10); n != 1 || err != nil {
		t.Fatalf("after the holder let go: %d, %v; want the 1 it held", n, err)
	}
	var left, attempts, events int
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT (SELECT count(*) FROM webhook_deliveries WHERE id = ANY($1)),
		(SELECT count(*) FROM webhook_attempts), (SELECT count(*) FROM events)`, kept).Scan(&left, &attempts, &events); err != nil {
		t.Fatal(err)
	}
	if left != len(kept) || attempts != 5 || events != 33 {
		t.Fatalf("left %d of %d kept deliveries, %d attempts (want the 5 recent), %d events (want all 33)", left, len(kept), attempts, events)
	}
}
