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
	pgtest.CheckNewestLists(t, pgtest.New(t), "key_x", func(ctx context.Context, db postgres.DBTX, after string) error {
		_, _, err := (&Service{}).ListKeys(ctx, db, "mer_x", 10, after)
		return err
	})
}
