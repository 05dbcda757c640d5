package links

import (
	"context"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
)

// TestFindReadsAnIndexRange: every filter of the links list, first page
// and later, is one range of an index of payment_links in the list's order.
func TestFindReadsAnIndexRange(t *testing.T) {
	t.Parallel()
	s := &Service{now: time.Now}
	pgtest.CheckNewestLists(t, pgtest.New(t), "plink_x", func(ctx context.Context, db postgres.DBTX, after string) error {
		for _, f := range []Filter{{}, {Status: Active}, {Status: Expired}, {Realm: "shop.eu"}, {Status: Active, Realm: "shop.eu"}} {
			if _, _, err := s.Find(ctx, db, "mer_x", f, 10, after); err != nil {
				return err
			}
		}
		return nil
	})
}
