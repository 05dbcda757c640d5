package webhook

import (
	"context"
	"slices"
	"strings"
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
				checkEventPlan(t, "values", pgtest.Explain(t, db, "ANALYZE, BUFFERS", query, args...))
				checkEventPlan(t, "generic", pgtest.ExplainGeneric(t, db, query, args...))
			}
			var got []string
			after := ""
			for range 3 {
				page, more, err := svc.ListEvents(ctx, db.Pool, "mer_big", typ, 10, after)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range page {
					got = append(got, e.ID)
				}
				if !more {
					break
				}
				after = page[len(page)-1].ID
			}
			want := all[:min(30, len(all))]
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("three pages: %d events %v…, want %d %v…", len(got), head(got), len(want), head(want))
			}
		})
	}
}

func head(ids []string) []string { return ids[:min(3, len(ids))] }

// checkEventPlan fails unless plan reads a merchant index of events and
// under 100 buffers in all.
func checkEventPlan(t *testing.T, which, plan string) {
	t.Helper()
	if n := pgtest.Buffers(t, plan); !strings.Contains(plan, "events_merchant_") || n >= 100 {
		t.Errorf("the %s plan reads %d buffers, not from a merchant index of events:\n%s", which, n, plan)
	}
}
