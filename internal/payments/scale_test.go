package payments

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
)

// scaleRows is how many payments TestAtScale gives its merchant:
// PAYLINK_SCALE_ROWS, 100,000 by default (BENCHMARKS.md records a run at
// 1,000,000 with PAYLINK_SCALE_ANALYZE=1, which also logs every plan with
// its timings).
func scaleRows(t *testing.T) int {
	if s := os.Getenv("PAYLINK_SCALE_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			t.Fatalf("PAYLINK_SCALE_ROWS=%q: want a number of at least 1000", s)
		}
		return n
	}
	return 100_000
}

// scaleStart is when the big merchant's first payment was made; payments
// are spread over the year that follows.
var scaleStart = time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)

// seedScale writes n payments of mer_big and n/10 of mer_small with COPY,
// generated one at a time (memory stays flat), then ANALYZEs the table.
func seedScale(t *testing.T, db *postgres.DB, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	total, i := n+n/10, 0
	step := 365 * 24 * time.Hour / time.Duration(n)
	statusOf := func() string {
		switch x := rng.IntN(100); {
		case x < 90:
			return "succeeded"
		case x < 94:
			return "failed"
		case x < 97:
			return "requires_action"
		case x < 99:
			return "canceled"
		}
		return "processing"
	}
	next := func() ([]any, error) {
		r := row{merchant: "mer_big", status: statusOf(), amount: int64(100 + rng.IntN(99_901)), brand: "visa",
			email: fmt.Sprintf("customer%d@example.test", rng.IntN(n/4+1))}
		r.created = scaleStart.Add(time.Duration(i)*step + time.Duration(rng.IntN(int(step/time.Microsecond)))*time.Microsecond)
		if i >= n {
			r.merchant, r.created = "mer_small", scaleStart.Add(time.Duration(rng.Int64N(int64(365*24*time.Hour))))
		}
		r.id = id.NewAt("pay", r.created)
		switch x := rng.IntN(10); {
		case x < 4:
			r.link = scaleLinks[rng.IntN(len(scaleLinks))]
		case x < 6:
			r.form = scaleForms[rng.IntN(len(scaleForms))]
		}
		if rng.IntN(10) < 6 {
			r.realm = fmt.Sprintf("site-%d", rng.IntN(20))
		}
		if r.status == "succeeded" && rng.IntN(20) == 0 {
			r.refunded = r.amount / 2
		}
		i++
		return r.values(), nil
	}
	ctx := context.Background()
	_, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"payments"}, rowColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if i == total {
			return nil, nil
		}
		return next()
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, "ANALYZE payments"); err != nil {
		t.Fatal(err)
	}
}

var (
	scaleLinks = makeIDs("plink", 200)
	scaleForms = makeIDs("pform", 50)
)

func makeIDs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = id.NewAt(prefix, scaleStart)
	}
	return out
}

// TestAtScale seeds one merchant with scaleRows payments and checks that
// no filter, alone or combined, first page or later, makes PostgreSQL read
// the payments table sequentially, and that the CSV export of all of them
// runs in flat memory. It does not run in parallel: the memory bound is
// read from the whole process's heap.
func TestAtScale(t *testing.T) {
	n := scaleRows(t)
	db := pgtest.New(t)
	seedScale(t, db, n)
	t.Run("plans", func(t *testing.T) { checkPlans(t, db) })
	t.Run("csv", func(t *testing.T) { checkExportMemory(t, db, n) })
}

func checkPlans(t *testing.T, db *postgres.DB) {
	ctx := context.Background()
	mid := scaleStart.Add(180 * 24 * time.Hour)
	day := "created_gte=" + mid.Format(time.RFC3339) + "&created_lt=" + mid.Add(24*time.Hour).Format(time.RFC3339)
	queries := []string{
		"",
		"status=succeeded", "status=failed", "status=processing", "status=canceled",
		"payment_link=" + scaleLinks[7], "payment_form=" + scaleForms[3], "realm=site-5",
		"email=customer42@example.test", "email=nobody@example.test",
		day, "created_gte=" + scaleStart.Add(358*24*time.Hour).Format(time.RFC3339),
		"created_lt=" + scaleStart.Add(3*24*time.Hour).Format(time.RFC3339),
		"amount_gte=5000&amount_lte=5010", "amount_gte=1000", "amount_lte=150",
		"realm=site-5&status=failed",
		"email=customer42@example.test&" + day,
		"payment_link=" + scaleLinks[7] + "&amount_gte=20000&amount_lte=30000&status=succeeded",
		"realm=site-3&amount_gte=90000&" + day,
		"status=canceled&realm=site-1&payment_form=" + scaleForms[1] + "&amount_lte=50000&created_gte=" + mid.Format(time.RFC3339),
	}
	options := ""
	if os.Getenv("PAYLINK_SCALE_ANALYZE") != "" {
		options = "ANALYZE, BUFFERS"
	}
	for _, query := range queries {
		t.Run(query, func(t *testing.T) {
			q, _ := url.ParseQuery(query)
			f, err := ParseFilter(q)
			if err != nil {
				t.Fatal(err)
			}
			// The first page, and the page after its last row, for the
			// merchant with most of the table and for one with a tenth.
			for _, m := range []string{"mer_big", "mer_small"} {
				first, _, err := Search(ctx, db.Pool, m, f, 10, "")
				if err != nil {
					t.Fatal(err)
				}
				after := []string{""}
				if len(first) == 10 {
					after = append(after, first[9].ID)
				}
				for _, a := range after {
					sq := f.page(m, a, 11)
					plan := pgtest.Explain(t, db, options, sq.sql, sq.args...)
					if strings.Contains(plan, "Seq Scan on payments") {
						t.Errorf("%s, starting_after %q: a sequential scan of payments:\n%s", m, a, plan)
					}
					if options != "" {
						t.Logf("%s: GET /v1/payments?%s (starting_after %q):\n%s", m, query, a, plan)
					}
					if f.AmountGTE == nil && f.AmountLTE == nil {
						checkGeneric(t, db, sq)
					}
				}
			}
		})
	}
}

// checkGeneric checks that the generic plan PostgreSQL keeps for page
// query q after five runs (its limit is a literal; see Filter.limit)
// reads at most twice the buffers of the plan made for q's values, plus
// 50: no filter's generic plan walks far more of the index than a plan
// that knows the values.
func checkGeneric(t *testing.T, db *postgres.DB, q query) {
	t.Helper()
	custom := pgtest.Explain(t, db, "ANALYZE, BUFFERS", q.sql, q.args...)
	generic := pgtest.ExplainGeneric(t, db, q.sql, q.args...)
	if g, c := pgtest.Buffers(t, generic), pgtest.Buffers(t, custom); g > 2*c+50 {
		t.Errorf("the generic plan reads %d buffers, the plan for the values %d:\n%s\n\nfor the values:\n%s", g, c, generic, custom)
	}
}

// heapWatch counts what the export writes and samples the live heap (after
// a collection) every so many writes.
type heapWatch struct {
	written, calls int
	peak           uint64
}

func (h *heapWatch) Write(p []byte) (int, error) {
	h.written += len(p)
	h.calls++
	if h.calls%200 == 1 {
		h.sample()
	}
	return len(p), nil
}

func (h *heapWatch) sample() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.peak = max(h.peak, ms.HeapAlloc)
}

// exportBound is how much the live heap may grow during an export,
// whatever its size: a batch of rows and the connection's buffers.
const exportBound = 2 << 20

func checkExportMemory(t *testing.T, db *postgres.DB, n int) {
	ctx := context.Background()
	w := &heapWatch{}
	w.sample()
	base := w.peak
	start := time.Now()
	rows, err := ExportCSV(ctx, db, "mer_big", Filter{}, w)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	w.sample()
	if rows != n {
		t.Fatalf("exported %d rows, want %d", rows, n)
	}
	grew := int64(w.peak) - int64(base)
	t.Logf("exported %d rows, %d bytes, in %s (with a collection every 200 writes); live heap grew at most %d bytes",
		rows, w.written, took.Round(time.Millisecond), grew)
	if grew > exportBound {
		t.Errorf("the live heap grew by %d bytes during the export, more than %d: it is not streaming", grew, exportBound)
	}
	if w.written < 4*exportBound {
		t.Errorf("the export wrote %d bytes: too little to show the bound means anything", w.written)
	}
	// A filtered export has exactly the rows of the filter.
	var want int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM payments WHERE merchant_id = 'mer_big' AND realm = 'site-5' AND status = 'failed'`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	got, err := ExportCSV(ctx, db, "mer_big", Filter{Realm: "site-5", Status: "failed"}, &buf)
	if err != nil || got != want || want == 0 {
		t.Fatalf("filtered export = %d rows, %v; want %d (> 0)", got, err, want)
	}
	r := csv.NewReader(&buf)
	records := 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if records > 0 && (rec[2] != "failed" || rec[10] != "site-5") {
			t.Fatalf("row %d = %v; want status failed, realm site-5", records, rec)
		}
		records++
	}
	if records != want+1 {
		t.Fatalf("CSV has %d records, want a header and %d rows", records, want)
	}
}
