package payments

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/pgtest"
)

func TestExportCSVContent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.Pool.Exec(ctx, `INSERT INTO merchants (id, name, email, password_hash) VALUES ('mer_a', 'Shop', 'a@shop.test', 'x')`); err != nil {
		t.Fatal(err)
	}
	link := id.NewAt("plink", t0)
	if _, err := db.Pool.Exec(ctx, `INSERT INTO payment_links (id, merchant_id, amount, currency, single_use, metadata, expires_at, created_at)
		VALUES ($1, 'mer_a', 2500, 'USD', false, $2, $3, $3)`, link, map[string]string{"order": "A-17, \"blue\"", "n": "1"}, t0); err != nil {
		t.Fatal(err)
	}
	older, newer := t0.Add(time.Second), t0.Add(2*time.Second)
	insert(t, db, []row{
		{id: id.NewAt("pay", older), merchant: "mer_a", link: link, realm: "shop.eu", email: "ada@example.test",
			status: "succeeded", brand: "visa", amount: 2500, refunded: 500, created: older},
		{id: id.NewAt("pay", newer), merchant: "mer_a", email: "=cmd@example.test", status: "failed", amount: 100,
			created: newer},
	})
	if _, err := db.Pool.Exec(ctx, `INSERT INTO payment_risk (payment_id, merchant_id, score, level, outcome, reasons,
  model, review_id, created_at)
SELECT id, merchant_id, 70, 'elevated', 'review', '{card_velocity,new_customer}', 'default-1', 'rev_1', now()
FROM payments WHERE merchant_id = 'mer_a' AND status = 'succeeded'`); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := ExportCSV(ctx, db, "mer_a", Filter{}, &buf)
	if err != nil || n != 2 {
		t.Fatalf("ExportCSV = %d, %v; want 2 rows", n, err)
	}
	got, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		CSVHeader,
		{got[1][0], "2026-11-01T12:00:02Z", "failed", "100", "USD", "0", "'=cmd@example.test",
			"", "", "", "", "{}", "", "", "", "", "", "", "", ""},
		{got[2][0], "2026-11-01T12:00:01Z", "succeeded", "2500", "USD", "500", "ada@example.test", "visa", "4242", link,
			"shop.eu", `{"n":"1","order":"A-17, \"blue\""}`, "", "70", "elevated", "review", "card_velocity new_customer", "", "rev_1", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CSV (-want +got):\n%s", diff)
	}
	if got[1][0] <= got[2][0] {
		t.Errorf("rows not newest first: %s before %s", got[1][0], got[2][0])
	}
	// Another merchant's export is empty but for the header.
	buf.Reset()
	if n, err := ExportCSV(ctx, db, "mer_b", Filter{}, &buf); err != nil || n != 0 || buf.String() != "id,created_at,status,amount,currency,amount_refunded,customer_email,brand,last4,link,realm,metadata,form,risk_score,risk_level,risk_outcome,risk_reasons,risk_rule,review,card_fingerprint\n" {
		t.Errorf("mer_b's export = %d rows, %v: %q", n, err, buf.String())
	}
}

// heldWriter holds the export writing to it at its first write, until
// released: an export in progress, holding its slot.
type heldWriter struct {
	started chan struct{}
	release chan struct{}
}

func (w *heldWriter) Write(p []byte) (int, error) {
	if w.started != nil {
		close(w.started)
		w.started = nil
		<-w.release
	}
	return len(p), nil
}

// TestExportsPerMerchantAreBounded: with MaxConcurrentExports exports of
// a merchant running, another is ErrExportBusy before it writes anything,
// whatever process asks (slots are in the database); another merchant is
// not held back; once one export ends, the next runs.
func TestExportsPerMerchantAreBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	running := make([]*heldWriter, MaxConcurrentExports)
	done := make(chan error, MaxConcurrentExports)
	for i := range running {
		w := &heldWriter{started: make(chan struct{}), release: make(chan struct{})}
		running[i] = w
		started := w.started
		go func() {
			_, err := ExportCSV(ctx, db, "mer_busy", Filter{}, w)
			done <- err
		}()
		select {
		case <-started:
		case <-time.After(time.Minute):
			t.Fatalf("export %d did not start", i+1)
		}
	}
	var buf bytes.Buffer
	if _, err := ExportCSV(ctx, db, "mer_busy", Filter{}, &buf); !errors.Is(err, ErrExportBusy) || buf.Len() != 0 {
		t.Fatalf("export over the limit = %v, %d bytes written; want ErrExportBusy and nothing", err, buf.Len())
	}
	if _, err := ExportCSV(ctx, db, "mer_other", Filter{}, &buf); err != nil {
		t.Fatalf("another merchant's export: %v", err)
	}
	close(running[0].release)
	if err := <-done; err != nil {
		t.Fatalf("first export: %v", err)
	}
	buf.Reset()
	if _, err := ExportCSV(ctx, db, "mer_busy", Filter{}, &buf); err != nil || buf.Len() == 0 {
		t.Fatalf("export after one finished = %v, %d bytes", err, buf.Len())
	}
	close(running[1].release)
	if err := <-done; err != nil {
		t.Fatalf("second export: %v", err)
	}
}
