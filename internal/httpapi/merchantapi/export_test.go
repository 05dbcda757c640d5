package merchantapi_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/payments"
	"github.com/paylink/paylink/internal/wire"
)

// csvHeader is API.md Part 2's column list for the export, named and
// ordered as it lists them, then the form and Part 3's risk and
// fingerprint, written out independently of the implementation.
var csvHeader = []string{"id", "created_at", "status", "amount", "currency", "amount_refunded", "customer_email",
	"brand", "last4", "link", "realm", "metadata",
	"form", "risk_score", "risk_level", "risk_outcome", "risk_reasons", "risk_rule", "review", "card_fingerprint"}

// exportCSV GETs the export with query using c on base and returns the
// answer.
func exportCSV(t *testing.T, base string, c apitest.Creds, query string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/v1/reports/payments.csv?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(c.ID, c.Secret)
	return http.DefaultClient.Do(req)
}

// TestExportPaymentsCSV: the export is an attachment of every matching
// payment, newest first, in API.md's columns, with metadata as one JSON
// cell and formula-looking cells defused; a malformed filter is a JSON
// 400 and no CSV.
func TestExportPaymentsCSV(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("export@shop.test")
	meta := map[string]string{"order": "A,1", "note": "Tom & \"Jerry\" <3>\nline two"}
	tagged := e.CreateLink(c, map[string]any{"amount": 1200, "realm": "-site", "metadata": meta, "single_use": false})
	other := e.CreateLink(c, map[string]any{"amount": 3400, "single_use": false})
	payAs(t, e, tagged, "4242424242424242", "ada@a.test")
	payAs(t, e, other, "5555555555554444", "bob@b.test")
	payAs(t, e, tagged, "4000000000000002", "cy@c.test")

	var listed wire.List[wire.Payment]
	e.Do(apitest.Req{Method: "GET", Path: "/v1/payments", Auth: &c}).Decode(t, &listed)
	want := [][]string{csvHeader}
	for _, p := range listed.Data {
		realm, metaCell, link := "", "{}", ""
		if p.Realm != nil {
			realm = "'" + *p.Realm // starts with '-': defused
		}
		if len(p.Metadata) > 0 {
			metaCell = `{"note":"Tom & \"Jerry\" <3>\nline two","order":"A,1"}`
		}
		if p.PaymentLink != nil {
			link = *p.PaymentLink
		}
		brand, last4 := "", ""
		if p.PaymentMethod.Brand != nil {
			brand, last4 = *p.PaymentMethod.Brand, *p.PaymentMethod.Last4
		}
		r := p.Risk.V // every payment here was screened
		want = append(want, []string{p.ID, p.CreatedAt, p.Status, strconv.FormatInt(p.Amount, 10), p.Currency,
			strconv.FormatInt(p.AmountRefunded, 10), p.Customer.Email, brand, last4, link, realm, metaCell,
			"", strconv.Itoa(r.Score), r.Level, r.Outcome, strings.Join(r.Reasons, " "), wire.Deref(r.Rule),
			wire.Deref(p.Review.V), wire.Deref(p.PaymentMethod.Fingerprint.V)})
	}
	if len(want) != 4 {
		t.Fatalf("listed %d payments, want 3", len(want)-1)
	}

	res, err := exportCSV(t, e.Base, c, "")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), `attachment; filename="payments-`) ||
		res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("export = %d %v", res.StatusCode, res.Header)
	}
	got, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("export (%v) =\n%q\nwant\n%q", err, got, want)
	}

	// The list's filters, combined.
	res, err = exportCSV(t, e.Base, c, "realm=-site&status=succeeded")
	if err != nil {
		t.Fatal(err)
	}
	got, err = csv.NewReader(res.Body).ReadAll()
	res.Body.Close()
	if err != nil || len(got) != 2 || got[1][2] != "succeeded" || got[1][9] != tagged.ID {
		t.Fatalf("filtered export = %q, %v", got, err)
	}

	for _, q := range []string{"status=paid", "created_gte=soon", "realm=A"} {
		res, err := exportCSV(t, e.Base, c, q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var eb struct{ Error struct{ Code string } }
		if res.StatusCode != 400 || json.Unmarshal(b, &eb) != nil || eb.Error.Code == "" ||
			res.Header.Get("Content-Disposition") != "" {
			t.Errorf("?%s = %d %v %s; want a JSON 400", q, res.StatusCode, res.Header, b)
		}
	}
}

// TestExportOutlivesTheServerWriteTimeout: on a server whose write
// timeout has always passed by the time a handler writes, an ordinary
// route's answer is lost, but the export sets its own deadline and
// arrives whole.
func TestExportOutlivesTheServerWriteTimeout(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, c := e.SignUp("deadline@shop.test")
	e.Paid(c, 800)
	ts := httptest.NewUnstartedServer(e.Server)
	ts.Config.WriteTimeout = time.Nanosecond
	ts.Start()
	t.Cleanup(ts.Close)
	req, _ := http.NewRequest("GET", ts.URL+"/v1/merchant", nil)
	req.SetBasicAuth(c.ID, c.Secret)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("GET /v1/merchant past the write timeout = %d; the test's premise fails", res.StatusCode)
	}
	res, err := exportCSV(t, ts.URL, c, "")
	if err != nil {
		t.Fatalf("export on the server with a 1 ns write timeout: %v", err)
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || len(rows) != 2 {
		t.Fatalf("export = %d, %d rows, %v", res.StatusCode, len(rows), err)
	}
}

// heapReader reads an HTTP body and samples the process's live heap,
// after a collection, every so many reads.
type heapReader struct {
	r     io.Reader
	reads int
	bytes int64
	peak  uint64
}

func (h *heapReader) Read(p []byte) (int, error) {
	h.reads++
	if h.reads%500 == 1 {
		h.sample()
	}
	n, err := h.r.Read(p)
	h.bytes += int64(n)
	return n, err
}

func (h *heapReader) sample() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.peak = max(h.peak, ms.HeapAlloc)
}

// TestExportStreamsInFlatMemory exports 200,000 payments over HTTP and
// fails if the live heap (server and client: one process) grows meanwhile
// by half the CSV's size or more: an export that built the CSV, or read
// the rows, before sending would hold all of it. It is not parallel, so no
// other test runs meanwhile; goroutines earlier tests left behind may
// still hold a few MB (4.8 MB once in the package's run, against 0-1.4 MB
// alone), which a fixed bound of 4 MB did not allow for.
func TestExportStreamsInFlatMemory(t *testing.T) {
	e := apitest.New(t)
	mid, c := e.SignUp("big-export@shop.test")
	const n = 200_000
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	_, err := e.DB.Pool.CopyFrom(context.Background(), pgx.Identifier{"payments"},
		[]string{"id", "merchant_id", "customer_email", "customer_name", "status", "card_brand", "card_last4", "method_type",
			"amount", "amount_refunded", "currency", "created_at", "updated_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			at := start.Add(time.Duration(i) * time.Second)
			i++
			return []any{id.NewAt("pay", at), mid, fmt.Sprintf("c%d@example.test", i), "Ada", "succeeded", "visa", "4242", "card",
				int64(100 + i%9000), int64(0), "USD", at, at}, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := exportCSV(t, e.Base, c, "")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	h := &heapReader{r: res.Body}
	h.sample()
	base := h.peak
	r := csv.NewReader(h)
	r.ReuseRecord = true
	rows := 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("row %d: %v", rows, err)
		}
		if rows == 1 && rec[6] != fmt.Sprintf("c%d@example.test", n) {
			t.Fatalf("newest row = %q", rec)
		}
		rows++
	}
	h.sample()
	if rows != n+1 {
		t.Fatalf("%d CSV rows, want %d and the header", rows, n)
	}
	grew := int64(h.peak) - int64(base)
	t.Logf("%d rows, %d bytes over HTTP; live heap grew at most %d bytes", n, h.bytes, grew)
	if grew >= h.bytes/2 {
		t.Errorf("the live heap grew by %d bytes, half the %d bytes of CSV or more: the export is not streaming", grew, h.bytes)
	}
}

// TestExportLimitIs429WithRetryAfter: while a merchant's export slots
// are all taken (held here the way running exports hold them, see
// payments.TestExportsPerMerchantAreBounded for real exports), its next
// export is a JSON 429 export_limit_reached with Retry-After and no CSV
// headers; another merchant's export still runs; freed, it runs again.
func TestExportLimitIs429WithRetryAfter(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	busy, c := e.SignUp("export-busy@shop.test")
	_, other := e.SignUp("export-other@shop.test")
	ctx := context.Background()
	tx, err := e.DB.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // only locks
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('payments_export:' || $1), s)
		FROM generate_series(0, $2 - 1) s`, busy, payments.MaxConcurrentExports); err != nil {
		t.Fatal(err)
	}
	res := e.Do(apitest.Req{Method: "GET", Path: "/v1/reports/payments.csv", Auth: &c})
	apitest.WantError(t, res, http.StatusTooManyRequests, "export_limit_reached")
	if res.Header.Get("Retry-After") != "30" || res.Header.Get("Content-Disposition") != "" {
		t.Fatalf("busy export headers = %v", res.Header)
	}
	if res := e.Do(apitest.Req{Method: "GET", Path: "/v1/reports/payments.csv", Auth: &other}); res.Status != http.StatusOK {
		t.Fatalf("another merchant's export = %d %s", res.Status, res.Body)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if res := e.Do(apitest.Req{Method: "GET", Path: "/v1/reports/payments.csv", Auth: &c}); res.Status != http.StatusOK ||
		!strings.HasPrefix(string(res.Body), "id,created_at") {
		t.Fatalf("export once the slots are free = %d %.100s", res.Status, res.Body)
	}
}
