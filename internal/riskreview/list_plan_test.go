package riskreview

import (
	"context"
	"testing"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
)

// TestListReadsAnIndexRange: the reviews list, of any status or
// one, first page and later, is one range of an index of reviews in the
// list's order (any status needs reviews_merchant_id_idx, migration 0059).
func TestListReadsAnIndexRange(t *testing.T) {
	t.Parallel()
	pgtest.CheckNewestLists(t, pgtest.New(t), "rev_x", func(ctx context.Context, db postgres.DBTX, after string) error {
		for _, status := range []string{"", "open", "closed"} {
			if _, _, err := List(ctx, db, "mer_x", status, after, 10); err != nil {
				return err
			}
		}
		return nil
	})
}
