package merchantapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/payments"
)

// DefaultExportTimeout is how long one CSV export may run when Deps does
// not say (PAYLINK_EXPORT_TIMEOUT's default).
const DefaultExportTimeout = 30 * time.Minute

// exportPayments is GET /v1/reports/payments.csv: every payment matching
// the list's filters, streamed from a database cursor as CSV (see
// payments.ExportCSV), with no page limit. A malformed filter is a JSON
// 400 before any byte of CSV. The export gets its own write deadline and
// time limit, exportTimeout, instead of the server's WriteTimeout, which
// a large export outlasts. A failure after the first byte cannot change
// the status any more: the connection is cut, so the client sees a broken
// transfer rather than a file that looks complete. A merchant with
// payments.MaxConcurrentExports exports running gets a 429
// export_limit_reached with Retry-After. A parameter that is not a filter
// is refused, so a mistyped one does not export more than was meant.
func (s *Server) exportPayments(c *gin.Context) error {
	for name := range c.Request.URL.Query() {
		if !slices.Contains(payments.FilterParams, name) {
			return edge.ErrUnknownParameter.WithParam(name).WithMessage("Unknown parameter: " + name + ".")
		}
	}
	f, err := payments.ParseFilter(c.Request.URL.Query())
	if err != nil {
		return err
	}
	m := CurrentMerchant(c)
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.exportTimeout)
	defer cancel()
	rc := http.NewResponseController(c.Writer)
	if err := rc.SetWriteDeadline(time.Now().Add(s.exportTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="payments-`+s.now().UTC().Format("2006-01-02")+`.csv"`)
	h.Set("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	start := time.Now()
	rows, err := payments.ExportCSV(ctx, s.db, m.ID, f, flusher{c.Writer, rc})
	if err != nil && !c.Writer.Written() {
		h.Del("Content-Disposition")
		if errors.Is(err, payments.ErrExportBusy) {
			h.Set("Retry-After", strconv.Itoa(int(payments.ExportRetryAfter/time.Second)))
		}
		return err
	}
	if err != nil {
		s.log.ErrorContext(ctx, "payments export cut short", "merchant", m.ID, "rows", rows, "err", err)
		panic(http.ErrAbortHandler)
	}
	s.log.InfoContext(ctx, "payments exported", "merchant", m.ID, "rows", rows, "took", time.Since(start).String())
	return nil
}

// flusher sends each batch the export writes to the client at once.
type flusher struct {
	w  io.Writer
	rc *http.ResponseController
}

func (f flusher) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		return n, err
	}
	if err := f.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return n, err
	}
	return n, nil
}
