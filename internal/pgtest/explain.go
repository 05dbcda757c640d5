package pgtest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/paylink/paylink/internal/postgres"
)

// Explain returns PostgreSQL's plan for sql run with args, the plan made
// for their values; options are EXPLAIN's, as in "ANALYZE, BUFFERS" ("" for
// the plan alone).
func Explain(t testing.TB, db *postgres.DB, options, sql string, args ...any) string {
	t.Helper()
	if options != "" {
		options = "(" + options + ") "
	}
	return planOf(t, db.Pool, "EXPLAIN "+options+sql, args...)
}

// ExplainGeneric returns EXPLAIN (ANALYZE, BUFFERS) of the generic plan
// PostgreSQL may keep for sql after its first five runs (plan_cache_mode =
// force_generic_plan), run with args. EXPLAIN EXECUTE takes no parameters
// of its own, so args (strings, times and integers) are written into it.
func ExplainGeneric(t testing.TB, db *postgres.DB, sql string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "RESET plan_cache_mode") //nolint:errcheck // the test's own database
	if _, err := conn.Conn().Prepare(ctx, "pgtest_generic", sql); err != nil {
		t.Fatal(err)
	}
	defer conn.Conn().Deallocate(ctx, "pgtest_generic") //nolint:errcheck // as above
	values := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			values[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		case time.Time:
			values[i] = "'" + v.Format(time.RFC3339Nano) + "'"
		case int:
			values[i] = strconv.Itoa(v)
		case int64:
			values[i] = strconv.FormatInt(v, 10)
		default:
			t.Fatalf("pgtest.ExplainGeneric: an argument of type %T", a)
		}
	}
	return planOf(t, conn, "EXPLAIN (ANALYZE, BUFFERS) EXECUTE pgtest_generic("+strings.Join(values, ", ")+")")
}

// Buffers returns the shared buffers the top node of an EXPLAIN (ANALYZE,
// BUFFERS) plan hit and read.
func Buffers(t testing.TB, plan string) int {
	t.Helper()
	for line := range strings.Lines(plan) {
		_, counts, ok := strings.Cut(line, "Buffers: shared ")
		if !ok {
			continue
		}
		n := 0
		for _, f := range strings.Fields(counts) {
			if k, v, ok := strings.Cut(f, "="); ok && (k == "hit" || k == "read") {
				x, err := strconv.Atoi(v)
				if err != nil {
					t.Fatalf("buffers in %q: %v", line, err)
				}
				n += x
			}
		}
		return n
	}
	t.Fatalf("no buffers in the plan:\n%s", plan)
	return 0
}

func planOf(t testing.TB, db postgres.DBTX, sql string, args ...any) string {
	t.Helper()
	rows, err := db.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// query is a statement and its arguments as a recorder saw them.
type query struct {
	sql  string
	args []any
}

// recorder is a postgres.DBTX that runs every statement on db and keeps
// each, so a test can look at the plans of what a function ran.
type recorder struct {
	db      postgres.DBTX
	queries []query
}

func (r *recorder) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	r.queries = append(r.queries, query{sql, args})
	return r.db.Exec(ctx, sql, args...)
}

func (r *recorder) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	r.queries = append(r.queries, query{sql, args})
	return r.db.Query(ctx, sql, args...)
}

func (r *recorder) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	r.queries = append(r.queries, query{sql, args})
	return r.db.QueryRow(ctx, sql, args...)
}

// CheckNewestLists runs lists on db twice, for a first page (after "")
// and for a later one (after, a cursor), and fails t unless every
// newest-first query it ran (one ordered by "id DESC") is planned, with
// sorts and sequential scans made as dear as PostgreSQL allows, as a read
// of an index in the order asked for: no Sort node and no primary key.
// That is how a list built by postgres.Newest reads its owner's index; a
// list whose index is missing needs a Sort.
func CheckNewestLists(t testing.TB, db *postgres.DB, after string, lists func(ctx context.Context, db postgres.DBTX, after string) error) {
	t.Helper()
	ctx := context.Background()
	rec := &recorder{db: db.Pool}
	for _, a := range []string{"", after} {
		if err := lists(ctx, rec, a); err != nil {
			t.Fatal(err)
		}
	}
	checked := 0
	for _, q := range rec.queries {
		if !strings.Contains(q.sql, "id DESC") {
			continue
		}
		checked++
		tx, err := db.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "SET LOCAL enable_sort = off; SET LOCAL enable_seqscan = off"); err != nil {
			t.Fatal(err)
		}
		plan := planOf(t, tx, "EXPLAIN "+q.sql, q.args...)
		tx.Rollback(ctx) //nolint:errcheck // nothing was written
		if strings.Contains(plan, "Sort") || strings.Contains(plan, "_pkey") || !strings.Contains(plan, "Index") {
			t.Errorf("%s\nis not one index range in the order asked for:\n%s", q.sql, plan)
		}
	}
	if checked == 0 {
		t.Error("CheckNewestLists: no newest-first query was run")
	}
}

// CheckRangePlan fails t unless plan, an EXPLAIN (ANALYZE, BUFFERS), names
// want, names none of avoid and reads under 100 shared buffers in all: a
// page read from one index range. which says which plan it is.
func CheckRangePlan(t testing.TB, which, plan, want string, avoid ...string) {
	t.Helper()
	n := Buffers(t, plan)
	bad := !strings.Contains(plan, want) || n >= 100
	for _, a := range avoid {
		bad = bad || strings.Contains(plan, a)
	}
	if bad {
		t.Errorf("the %s plan reads %d buffers, not from one index range (%s):\n%s", which, n, want, plan)
	}
}

// CheckFirstPages reads up to three pages of 10 with page, each after the
// last id of the one before (the first after ""), and fails t unless their
// ids are the first 30 of want, in order.
func CheckFirstPages(t testing.TB, want []string, page func(after string) ([]string, bool, error)) {
	t.Helper()
	var got []string
	after := ""
	for range 3 {
		ids, more, err := page(after)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids...)
		if !more {
			break
		}
		after = ids[len(ids)-1]
	}
	want = want[:min(30, len(want))]
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("three pages: %d rows %v…, want %d %v…", len(got), got[:min(3, len(got))], len(want), want[:min(3, len(want))])
	}
}
