package webhook

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/pgtest"
)

// TestEventListBehindNewerEvents gives one merchant 40,000 events (one in
// a hundred payment.failed, none payment.refunded) and another 30,000
// newer ones, then lists the first's, by every type and none, first page
// and deep: each page must be read from the merchant's own index range in
// under 100 buffers, with the plan made for the values and with the
// generic plan PostgreSQL may keep after five runs (a plan that walks the
// primary key back through the other merchant's events read 33,412 at 10
// million events), and the pages must be the merchant's events in order.
func TestEventListBehindNewerEvents(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	byType := map[string][]string{}
	rows := make([][]any, 0, 70_000)
	for i := range 70_000 {
		at := start.Add(time.Duration(i) * time.Second)
		mer, typ := "mer_big", "payment.succeeded"
		if i%100 == 7 {
			typ = "payment.failed"
		}
		if i >= 40_000 {
			mer, typ = "mer_busy", "payment.refunded"
		}
		evt := id.NewAt("evt", at)
		if mer == "mer_big" {
			byType[""] = append(byType[""], evt)
			byType[typ] = append(byType[typ], evt)
		}
		rows = append(rows, []any{evt, mer, typ, map[string]any{"id": "pay_x"}, at, at})
	}
	if _, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"events"},
		[]string{"id", "merchant_id", "type", "data", "created_at", "notified_at"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, "VACUUM ANALYZE events"); err != nil {
		t.Fatal(err)
	}
	svc := &Service{}
	for _, typ := range []string{"", "payment.succeeded", "payment.failed", "payment.refunded"} {
		t.Run("type="+typ, func(t *testing.T) {
			all := slices.Clone(byType[typ])
			slices.Reverse(all)
			deep := ""
			if len(all) > 0 {
				deep = all[len(all)/2]
			}
			for _, after := range []string{"", deep} {
				query, args := eventsPage("mer_big", typ, after).SQL(11)
				pgtest.CheckRangePlan(t, "values", pgtest.Explain(t, db, "ANALYZE, BUFFERS", query, args...), "events_merchant_")
				pgtest.CheckRangePlan(t, "generic", pgtest.ExplainGeneric(t, db, query, args...), "events_merchant_")
			}
			pgtest.CheckFirstPages(t, all, func(after string) ([]string, bool, error) {
				page, more, err := svc.ListEvents(ctx, db.Pool, "mer_big", typ, 10, after)
				ids := make([]string, len(page))
				for i, e := range page {
					ids[i] = e.ID
				}
				return ids, more, err
			})
		})
	}
}
