package webhook

import (
	"context"
	"testing"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
)

// TestListsReadAnIndexRange: the endpoints, deliveries and events lists,
// with every filter, first page and later, are each one range of an index
// of their table in the list's order.
func TestListsReadAnIndexRange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	e := f.endpoint("https://hooks.example.test/paylink", "payment.succeeded")
	evt := f.record("payment.succeeded", payment("pay_01kaqv7n2v8d3m2k3v9x5h4q7z"))
	mid := f.merchant.ID
	pgtest.CheckNewestLists(t, f.db, "zz_x", func(ctx context.Context, db postgres.DBTX, after string) error {
		if _, _, err := f.svc.ListEndpoints(ctx, db, mid, 10, after); err != nil {
			return err
		}
		for _, df := range []DeliveryFilter{{EventID: evt}, {EndpointID: e.ID}} {
			if _, _, err := f.svc.ListDeliveries(ctx, db, mid, df, 10, after); err != nil {
				return err
			}
		}
		for _, typ := range []string{"", "payment.succeeded"} {
			if _, _, err := f.svc.ListEvents(ctx, db, mid, typ, 10, after); err != nil {
				return err
			}
		}
		return nil
	})
}
