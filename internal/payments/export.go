package payments

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/postgres"
)

// CSVHeader is the first row of an export; every later row is one
// payment, in these columns. The first twelve are API.md's, named and
// ordered as it lists them, so a reader that takes a column by its name
// or by its place finds it; the form and risk columns come after them.
var CSVHeader = []string{"id", "created_at", "status", "amount", "currency", "amount_refunded", "customer_email",
	"brand", "last4", "link", "realm", "metadata",
	"form", "risk_score", "risk_level", "risk_outcome", "risk_reasons", "risk_rule", "review", "card_fingerprint"}

// exportBatch is how many rows one FETCH of the export's cursor reads:
// the most the export holds at once.
const exportBatch = 500

// MaxConcurrentExports is how many exports of one merchant may run at
// once, across every replica: each holds a database connection for as
// long as it streams, so a merchant cannot tie up the pool with them.
const MaxConcurrentExports = 2

// ExportRetryAfter is what a refused export is told to wait.
const ExportRetryAfter = 30 * time.Second

// ErrExportBusy is an export refused because the merchant already has
// MaxConcurrentExports running.
var ErrExportBusy = &apperr.Error{Kind: apperr.RateLimited, Code: "export_limit_reached",
	Message: "This account already has " + strconv.Itoa(MaxConcurrentExports) + " exports running; try again when one has finished."}

// takeExportSlot takes the first free one of merchant $1's $2 export
// slots, a transaction-level advisory lock (freed by the export's end,
// its rollback, or its connection dying with its replica), and returns
// its number; no row means every slot is taken.
const takeExportSlot = `
SELECT s FROM generate_series(0, $2 - 1) s
WHERE pg_try_advisory_xact_lock(hashtext('payments_export:' || $1), s)
LIMIT 1`

// ExportCSV writes every payment of merchantID matching f to w as CSV
// (CSVHeader, then one row per payment, newest first; amounts in minor
// units, times RFC 3339 UTC, metadata as one JSON object), and returns
// how many rows it wrote. The rows come from a server-side cursor in a
// read-only transaction, exportBatch at a time, and go out through a
// csv.Writer as they are read: memory stays flat whatever the count, and
// the export is one consistent snapshot. A cell a spreadsheet would take
// for a formula (starting with = + - @, a tab or a carriage return) is
// prefixed with a single quote. An error after the first rows leaves w
// with a partial export. An export over MaxConcurrentExports of the
// merchant is ErrExportBusy, before anything is written.
func ExportCSV(ctx context.Context, db *postgres.DB, merchantID string, f Filter, w io.Writer) (int, error) {
	tx, err := db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, fmt.Errorf("export payments: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only: nothing to keep
	var slot int
	switch err := tx.QueryRow(ctx, takeExportSlot, merchantID, MaxConcurrentExports).Scan(&slot); {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, ErrExportBusy
	case err != nil:
		return 0, fmt.Errorf("export payments: %w", err)
	}
	q := f.query(merchantID, "")
	if _, err := tx.Exec(ctx, "DECLARE export NO SCROLL CURSOR FOR "+q.sql, q.args...); err != nil {
		return 0, fmt.Errorf("export payments: %w", err)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return 0, err
	}
	n := 0
	record := make([]string, len(CSVHeader))
	for {
		rows, err := tx.Query(ctx, "FETCH FORWARD "+strconv.Itoa(exportBatch)+" FROM export")
		if err != nil {
			return n, fmt.Errorf("export payments: %w", err)
		}
		got := 0
		for rows.Next() {
			p, err := checkout.ScanPayment(rows)
			if err != nil {
				rows.Close()
				return n, fmt.Errorf("export payments: %w", err)
			}
			if err := cw.Write(csvRecord(record, p)); err != nil {
				rows.Close()
				return n, err
			}
			got++
		}
		if err := rows.Err(); err != nil {
			return n, fmt.Errorf("export payments: %w", err)
		}
		n += got
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, err
		}
		if got < exportBatch {
			return n, nil
		}
	}
}

// csvRecord fills rec with p's cells and returns it.
func csvRecord(rec []string, p *checkout.Payment) []string {
	meta := "{}"
	if p.Metadata != nil {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)   // the cell keeps & < > as the merchant wrote them
		_ = enc.Encode(p.Metadata) // a map of strings always encodes
		meta = strings.TrimSuffix(b.String(), "\n")
	}
	rec[0], rec[1], rec[2] = p.ID, p.CreatedAt.UTC().Format(time.RFC3339), string(p.Status)
	rec[3], rec[4] = strconv.FormatInt(p.Amount.Minor, 10), string(p.Amount.Currency)
	rec[5], rec[6] = strconv.FormatInt(p.AmountRefunded, 10), cell(p.Customer.Email)
	rec[7], rec[8] = string(p.Card.Brand), p.Card.Last4
	rec[9], rec[10], rec[11], rec[12] = p.LinkID, cell(p.Realm), cell(meta), p.FormID
	rec[13], rec[14], rec[15], rec[16], rec[17] = "", "", "", "", ""
	if d := p.Risk; d != nil {
		// reasons are names of our own (signals, lists, rule ids): no cell() needed
		rec[13], rec[14], rec[15] = strconv.Itoa(d.Score), d.Level, d.Outcome
		rec[16], rec[17] = strings.Join(d.Reasons, " "), d.Rule
	}
	rec[18], rec[19] = p.ReviewID, p.Card.Fingerprint
	return rec
}

// cell keeps a value a spreadsheet would run as a formula from running:
// it gets a leading single quote (OWASP's advice for CSV exports).
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
