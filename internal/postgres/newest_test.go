package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
)

// TestNewestBehindNewerRows gives one owner 30,000 rows behind 30,000 newer
// rows of another, and checks that every page of the first owner, narrowed
// or filtered, first or deep, reads a range of the owner's own index in
// under 100 buffers, in the plan made for its values and in the generic
// plan, and that three pages come back in order.
func TestNewestBehindNewerRows(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `
CREATE TABLE things (id text PRIMARY KEY, owner text NOT NULL, kind text, status text NOT NULL);
CREATE INDEX things_owner_idx ON things (owner, id DESC);
CREATE INDEX things_kind_idx ON things (owner, kind, id DESC) WHERE kind IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	type thing struct{ id, owner, kind, status string }
	var things []thing
	rows := make([][]any, 0, 60_000)
	for i := range 60_000 {
		th := thing{id: fmt.Sprintf("thg_%08d", i), owner: "big", kind: "a", status: "closed"}
		switch {
		case i >= 30_000:
			th.owner, th.kind = "busy", "c"
		case i%3 == 0:
			th.kind = ""
		case i%10 == 1:
			th.kind = "b"
		}
		if i%5 == 0 {
			th.status = "open"
		}
		things = append(things, th)
		var kind any
		if th.kind != "" {
			kind = th.kind
		}
		rows = append(rows, []any{th.id, th.owner, kind, th.status})
	}
	if _, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"things"}, []string{"id", "owner", "kind", "status"},
		pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, "VACUUM ANALYZE things"); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(things)

	cases := []struct {
		name  string
		page  func(q *postgres.Newest) *postgres.Newest
		wants func(thing) bool
	}{
		{"all", func(q *postgres.Newest) *postgres.Newest { return q }, func(thing) bool { return true }},
		{"kind a", func(q *postgres.Newest) *postgres.Newest { return q.Within("kind", "a") },
			func(th thing) bool { return th.kind == "a" }},
		{"kind b", func(q *postgres.Newest) *postgres.Newest { return q.Within("kind", "b") },
			func(th thing) bool { return th.kind == "b" }},
		{"kind c (none)", func(q *postgres.Newest) *postgres.Newest { return q.Within("kind", "c") },
			func(th thing) bool { return th.kind == "c" }},
		{"open", func(q *postgres.Newest) *postgres.Newest { return q.Equal("status", "open") },
			func(th thing) bool { return th.status == "open" }},
		{"kind a, open", func(q *postgres.Newest) *postgres.Newest {
			return q.Within("kind", "a").Equal("status", "open")
		}, func(th thing) bool { return th.kind == "a" && th.status == "open" }},
		{"open kind a, by Where", func(q *postgres.Newest) *postgres.Newest {
			return q.Within("kind", "a").Where("status = " + q.Arg("open"))
		}, func(th thing) bool { return th.kind == "a" && th.status == "open" }},
		{"empty narrowing and filter", func(q *postgres.Newest) *postgres.Newest {
			return q.Within("kind", "").Equal("status", "")
		}, func(thing) bool { return true }},
	}
	scan := pgx.RowTo[string]
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want []string
			for _, th := range things {
				if th.owner == "big" && c.wants(th) {
					want = append(want, th.id)
				}
			}
			deep := ""
			if len(want) > 0 {
				deep = want[len(want)/2]
			}
			for _, after := range []string{"", deep} {
				sql, args := c.page(postgres.NewestOf("SELECT id FROM things", "owner", "big")).Before(after).SQL(11)
				pgtest.CheckRangePlan(t, "values", pgtest.Explain(t, db, "ANALYZE, BUFFERS", sql, args...), "Index", "things_pkey")
				pgtest.CheckRangePlan(t, "generic", pgtest.ExplainGeneric(t, db, sql, args...), "Index", "things_pkey")
			}
			pgtest.CheckFirstPages(t, want, func(after string) ([]string, bool, error) {
				q := c.page(postgres.NewestOf("SELECT id FROM things", "owner", "big")).Before(after)
				return postgres.PageNewest(ctx, db.Pool, 10, scan, q)
			})
		})
	}
}
