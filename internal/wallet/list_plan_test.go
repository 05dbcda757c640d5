package wallet

import (
	"context"
	"testing"

	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
)

// TestHistoryReadsAnIndexRange: every filter of a wallet user's history
// and notifications, first page and later, is one range of an index of
// the user's rows in the list's order.
func TestHistoryReadsAnIndexRange(t *testing.T) {
	t.Parallel()
	s := &Service{}
	filters := []Filter{{}, {Type: "topup"}, {Status: "failed"}, {Currency: money.USD},
		{Type: "payment", Status: "succeeded", Currency: money.EUR}}
	pgtest.CheckNewestLists(t, pgtest.New(t), "wtx_x", func(ctx context.Context, db postgres.DBTX, after string) error {
		for _, f := range filters {
			if _, _, err := s.Transactions(ctx, db, "usr_x", f, 10, after); err != nil {
				return err
			}
		}
		for _, unread := range []bool{false, true} {
			if _, _, err := s.Notifications(ctx, db, "usr_x", unread, 10, after); err != nil {
				return err
			}
		}
		return nil
	})
}
