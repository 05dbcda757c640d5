package notify

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/pgtest"
)

// TestQueueShoppersCountsInOrder: a batch is counted as if its e-mails
// were queued one by one, in order: within each window the first ones
// up to the limit are queued and the rest held back; a key queued before,
// or given twice, is stored once and counted once.
func TestQueueShoppersCountsInOrder(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	lim := ShopperLimits{PerRecipient: Limit{N: 3, Per: 24 * time.Hour}, PerMerchant: Limit{N: 5, Per: time.Hour}}
	mail := func(key, to, merchant string) ShopperEmail {
		return ShopperEmail{Key: key, MerchantID: merchant, Email: Email{To: to, Subject: "r", Text: "t", HTML: "<p>t</p>"}, Limits: lim}
	}
	queue := func(es ...ShopperEmail) []bool {
		t.Helper()
		var got []bool
		if err := db.WithTx(ctx, func(tx pgx.Tx) (err error) {
			got, err = QueueShoppers(ctx, tx, es, now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := queue(mail("receipt:pay_0", "ada@example.test", "mer_a")); !slices.Equal(got, []bool{true}) {
		t.Fatalf("first e-mail: %v", got)
	}
	got := queue(
		mail("receipt:pay_0", "ada@example.test", "mer_a"), // queued before: not again, not counted
		mail("receipt:pay_1", "Ada@Example.test", "mer_a"), // the address's 2nd
		mail("receipt:pay_2", "bob@example.test", "mer_a"),
		mail("receipt:pay_2", "bob@example.test", "mer_a"), // the same key twice: the first only
		mail("receipt:pay_3", "ada@example.test", "mer_b"), // the address's 3rd, from another merchant
		mail("receipt:pay_4", "ada@example.test", "mer_a"), // the address's 4th: held back
		mail("receipt:pay_5", "cy@example.test", "mer_a"),  // mer_a's 5th in the hour
		mail("receipt:pay_6", "di@example.test", "mer_a"),  // mer_a's 6th (the held-back 4th counts): held back
	)
	want := []bool{false, true, true, false, true, false, true, false}
	if !slices.Equal(got, want) {
		t.Fatalf("QueueShoppers = %v, want %v", got, want)
	}
	rows, err := db.Pool.Query(ctx, `SELECT dedupe_key FROM emails WHERE failed_at IS NULL ORDER BY dedupe_key`)
	if err != nil {
		t.Fatal(err)
	}
	sendable, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"receipt:pay_0", "receipt:pay_1", "receipt:pay_2", "receipt:pay_3", "receipt:pay_5"}; !slices.Equal(sendable, want) {
		t.Fatalf("sendable e-mails %v, want %v", sendable, want)
	}
	var held, html int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE last_error = $1), count(html) FROM emails`, heldBack).
		Scan(&held, &html); err != nil || held != 2 || html != 7 {
		t.Fatalf("%d held back (want 2), %d with HTML (want 7): %v", held, html, err)
	}
}

// TestQueueShoppersRace: batches queued side by side for the same
// windows neither fail nor lose or double a count: of 8 batches of 10
// e-mails to one address, exactly the limit's 25 are queued.
func TestQueueShoppersRace(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	now := time.Now()
	lim := ShopperLimits{PerRecipient: Limit{N: 25, Per: 24 * time.Hour}, PerMerchant: Limit{N: 1000, Per: time.Hour}}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		queued int
		errs   []error
	)
	for b := range 8 {
		wg.Go(func() {
			var es []ShopperEmail
			for i := range 10 {
				// Two merchants, in a different order per batch, so the
				// windows' rows are met in both orders.
				mer := []string{"mer_a", "mer_b"}[(b+i)%2]
				es = append(es, ShopperEmail{Key: fmt.Sprintf("receipt:%d:%d", b, i), MerchantID: mer,
					Email: Email{To: "ada@example.test", Subject: "r", Text: "t"}, Limits: lim})
			}
			var got []bool // of the attempt that committed
			err := db.WithTx(ctx, func(tx pgx.Tx) (err error) {
				got, err = QueueShoppers(ctx, tx, es, now)
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			for _, q := range got {
				if q {
					queued++
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 || queued != 25 {
		t.Fatalf("%d queued, want 25; errors %v", queued, errs)
	}
	var sendable int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM emails WHERE failed_at IS NULL`).Scan(&sendable); err != nil || sendable != 25 {
		t.Fatalf("%d sendable e-mails, want 25 (%v)", sendable, err)
	}
}
