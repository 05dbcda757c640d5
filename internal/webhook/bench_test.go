package webhook

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
)

// BenchmarkRecord measures what recording an event costs the business
// transaction that records it (checkout's hot path): one transaction per
// event, against real PostgreSQL, by number of subscribed endpoints.
//
//	bin/paylink devenv -fast -- go test ./internal/webhook -run '^$' -bench Record -benchtime 3000x
func BenchmarkRecord(b *testing.B) {
	for _, endpoints := range []int{0, 1, 3} {
		b.Run(fmt.Sprintf("endpoints=%d", endpoints), func(b *testing.B) {
			f := newFixture(b)
			for i := range endpoints {
				f.endpoint(fmt.Sprintf("https://hooks.shop.test/%d", i), AllEvents)
			}
			data := payment("pay_01kaqv7n2tq1w4e0m8a6r3c5yb")
			b.ResetTimer()
			for range b.N {
				err := f.db.WithTx(f.ctx, func(tx pgx.Tx) error {
					_, err := Record(f.ctx, tx, f.merchant.ID, PaymentSucceeded, data, f.clock.Now())
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
