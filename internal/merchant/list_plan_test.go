package merchant

import (
	"context"
	"testing"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
)

// TestListKeysReadsAnIndexRange: the API keys list, first page and later,
// is one range of an index of api_keys in the list's order.
func TestListKeysReadsAnIndexRange(t *testing.T) {
	t.Parallel()
	pgtest.CheckNewestLists(t, pgtest.New(t), func(ctx context.Context, db postgres.DBTX) error {
		for _, after := range []string{"", "key_x"} {
			if _, _, err := (&Service{}).ListKeys(ctx, db, "mer_x", 10, after); err != nil {
				return err
			}
		}
		return nil
	})
}
