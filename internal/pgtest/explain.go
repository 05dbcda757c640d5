package pgtest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
