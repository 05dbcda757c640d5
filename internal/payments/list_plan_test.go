package payments

import (
	"context"
	"testing"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
)

// TestListRefundsReadsAnIndexRange: the refunds list, of every payment or
// of one, first page and later, is one range of an index of refunds in the
// list's order.
func TestListRefundsReadsAnIndexRange(t *testing.T) {
	t.Parallel()
	pgtest.CheckNewestLists(t, pgtest.New(t), "re_x", func(ctx context.Context, db postgres.DBTX, after string) error {
		for _, payID := range []string{"", "pay_x"} {
			if _, _, err := ListRefunds(ctx, db, "mer_x", payID, 10, after); err != nil {
				return err
			}
		}
		return nil
	})
}
