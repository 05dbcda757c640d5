package dashboard

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/payments"
	"github.com/paylink/paylink/internal/riskreview"
	"github.com/paylink/paylink/internal/webhook"
)

// PageSize is how many payments a page of the list shows.
const PageSize = 25

// filterForm is the payments page's filter form as typed: the API's
// filters, dates instead of times (whole UTC days), amounts in the
// currency's units (12.50, not 1250) with the currency they are in, and a
// search box taking a payment id or an e-mail.
type filterForm struct {
	Q, Status, Realm, Email, From, To, AmountGTE, AmountLTE, Currency, Link, Form string
}

// filterFields are the query parameters of filterForm, in its order.
var filterFields = []string{"q", "status", "realm", "email", "from", "to", "amount_gte", "amount_lte", "currency", "payment_link", "payment_form"}

var (
	errDateInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "created_invalid", Param: "from",
		Message: "Dates are days like 2026-12-05."}
	errCurrencyInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "currency_invalid", Param: "currency",
		Message: "Choose a currency from the list."}
	errAmountCurrency = &apperr.Error{Kind: apperr.Invalid, Code: "currency_required", Param: "currency",
		Message: "Choose the currency the amounts are in."}
)

// readFilter reads the filter form from the query and turns it into the
// API's filter (payments.ParseFilter, the one parser of GET /v1/payments)
// and the query string that repeats it (for pages and the CSV link).
// accepted are the merchant's currencies: amounts need a currency unless
// there is only one.
func readFilter(q url.Values, accepted []money.Currency) (filterForm, payments.Filter, url.Values, error) {
	ff := filterForm{Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Realm: q.Get("realm"),
		Email: strings.TrimSpace(q.Get("email")), From: q.Get("from"), To: q.Get("to"),
		AmountGTE: q.Get("amount_gte"), AmountLTE: q.Get("amount_lte"), Currency: q.Get("currency"),
		Link: q.Get("payment_link"), Form: q.Get("payment_form")}
	keep := url.Values{}
	for _, name := range filterFields {
		if v := strings.TrimSpace(q.Get(name)); v != "" {
			keep.Set(name, v)
		}
	}
	api := url.Values{}
	for _, name := range []string{"status", "realm", "payment_link", "payment_form"} {
		if v := keep.Get(name); v != "" {
			api.Set(name, v)
		}
	}
	email := ff.Email
	if ff.Q != "" && strings.Contains(ff.Q, "@") {
		email = ff.Q
	}
	if email != "" {
		api.Set("email", email)
	}
	for _, d := range []struct {
		field, param string
		days         int
	}{{ff.From, "created_gte", 0}, {ff.To, "created_lt", 1}} {
		if d.field == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", d.field)
		if err != nil {
			e := *errDateInvalid
			if d.days == 1 {
				e.Param = "to"
			}
			return ff, payments.Filter{}, keep, &e
		}
		api.Set(d.param, t.AddDate(0, 0, d.days).Format(time.RFC3339))
	}
	cur, err := filterAmounts(&ff, keep, api, accepted)
	if err != nil {
		return ff, payments.Filter{}, keep, err
	}
	f, err := payments.ParseFilter(api)
	f.Currency = cur
	return ff, f, keep, err
}

// filterAmounts checks the form's currency and turns its amounts, typed
// in that currency's units, into the API's minor-unit amount_gte and
// amount_lte. Amounts without a currency take the merchant's only one,
// or are refused.
func filterAmounts(ff *filterForm, keep, api url.Values, accepted []money.Currency) (money.Currency, error) {
	cur := money.Currency(strings.ToUpper(strings.TrimSpace(ff.Currency)))
	if _, ok := money.Exponent(cur); cur != "" && !ok {
		return "", errCurrencyInvalid
	}
	gte, lte := strings.TrimSpace(ff.AmountGTE), strings.TrimSpace(ff.AmountLTE)
	if cur == "" && (gte != "" || lte != "") {
		if len(accepted) != 1 {
			return "", errAmountCurrency
		}
		cur = accepted[0]
	}
	if cur != "" {
		ff.Currency = string(cur)
		keep.Set("currency", ff.Currency)
	}
	for _, a := range []struct{ typed, param string }{{gte, "amount_gte"}, {lte, "amount_lte"}} {
		if a.typed == "" {
			continue
		}
		n, err := money.ParseMajor(a.typed, cur, a.param)
		if err != nil {
			return "", err
		}
		api.Set(a.param, strconv.FormatInt(n, 10))
	}
	return cur, nil
}

// currencyChoices returns the filter form's currencies: the merchant's,
// and the one chosen if it is no longer among them.
func currencyChoices(accepted []money.Currency, chosen string) []money.Currency {
	out := append([]money.Currency{}, accepted...)
	if c := money.Currency(chosen); c != "" && !slices.Contains(out, c) {
		out = append(out, c)
	}
	return out
}

type paymentsData struct {
	Filter     filterForm
	Errors     map[string]string
	Payments   []*checkout.Payment
	Next       string // the next page's URL, "" on the last
	First      string // the first page's URL, "" on it
	CSV        string
	Statuses   []string
	Currencies []money.Currency
}

// payments is the list of payments with the API's filters, cursor pages
// that keep them, and a link to the CSV of exactly what is filtered. A
// search for a payment id opens that payment.
func (s *Server) payments(c *gin.Context, v *Visit) {
	q := c.Request.URL.Query()
	ff, f, keep, err := readFilter(q, v.Merchant.Settings.Currencies)
	d := paymentsData{Filter: ff, Statuses: []string{"succeeded", "failed", "requires_action", "processing", "canceled"},
		Currencies: currencyChoices(v.Merchant.Settings.Currencies, ff.Currency)}
	if err != nil {
		status, errs := s.Failed(c, err)
		d.Errors = errs
		s.render(c, status, "payments", v, "payments", d)
		return
	}
	if id.Valid("pay", ff.Q) {
		// A payment id opens its page, if it is the merchant's.
		if _, err := s.Checkout.Get(c.Request.Context(), s.DB.Pool, v.Merchant.ID, ff.Q); err == nil {
			c.Redirect(http.StatusSeeOther, "/dashboard/payments/"+ff.Q)
			return
		}
		s.render(c, http.StatusOK, "payments", v, "payments", d)
		return
	}
	after := StartingAfter(c, "pay")
	list, more, err := payments.Search(c.Request.Context(), s.DB.Pool, v.Merchant.ID, f, PageSize, after)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	d.Payments = list
	if more {
		next := cloneValues(keep)
		next.Set("starting_after", list[len(list)-1].ID)
		d.Next = WithQuery("/dashboard/payments", next)
	}
	if after != "" {
		d.First = WithQuery("/dashboard/payments", keep)
	}
	d.CSV = WithQuery("/dashboard/payments.csv", keep)
	s.render(c, http.StatusOK, "payments", v, "payments", d)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// exportTimeout bounds one CSV download, which may outlast the server's
// write timeout.
const exportTimeout = 30 * time.Minute

// paymentsCSV streams the CSV export (payments.ExportCSV, the API's) of
// the filtered payments. A bad filter is an error page before any byte;
// a failure after the first byte cuts the connection, so a cut file
// never looks complete.
func (s *Server) paymentsCSV(c *gin.Context, v *Visit) {
	_, f, _, err := readFilter(c.Request.URL.Query(), v.Merchant.Settings.Currencies)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), exportTimeout)
	defer cancel()
	rc := http.NewResponseController(c.Writer)
	if err := rc.SetWriteDeadline(time.Now().Add(exportTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.ErrorPage(c, err)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="payments-`+s.Now().UTC().Format("2006-01-02")+`.csv"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	c.Status(http.StatusOK)
	rows, err := payments.ExportCSV(ctx, s.DB, v.Merchant.ID, f, flusher{c.Writer, rc})
	if err != nil && !c.Writer.Written() {
		h.Del("Content-Disposition")
		s.ErrorPage(c, err)
		return
	}
	if err != nil {
		s.Log.ErrorContext(ctx, "dashboard payments export cut short", "merchant", v.Merchant.ID, "rows", rows, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// flusher sends each batch the export writes to the browser at once.
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

// timelineEntry is one event about a payment and its deliveries.
type timelineEntry struct {
	Event      *webhook.Event
	Deliveries []*webhook.Delivery
}

type paymentData struct {
	Payment     *checkout.Payment
	Refunds     []*checkout.Refund
	Refundable  int64 // what is left to refund
	Timeline    []timelineEntry
	Reasons     []string
	Review      *riskreview.Item // the review the payment's screening opened
	Refunded    string           // the refund just made, from ?refunded=
	Redelivered string           // the event just queued again, from ?redelivered=
	Errors      map[string]string
	Amount      string // the refund amount typed
	Reason      string
}

// payment is one payment's page: its details, refunds, the timeline of
// its events with every webhook delivery attempt, and the refund form.
func (s *Server) payment(c *gin.Context, v *Visit) {
	d, err := s.loadPayment(c, v, c.Param("id"))
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	if r := c.Query("refunded"); id.Valid("re", r) {
		d.Refunded = r
	}
	if e := c.Query("redelivered"); id.Valid("evt", e) {
		d.Redelivered = e
	}
	s.render(c, http.StatusOK, "payment", v, "payments", d)
}

// loadPayment reads payID of the visit's merchant (404 for any other's)
// with its refunds and timeline.
func (s *Server) loadPayment(c *gin.Context, v *Visit, payID string) (*paymentData, error) {
	ctx := c.Request.Context()
	p, err := s.Checkout.Get(ctx, s.DB.Pool, v.Merchant.ID, payID)
	if err != nil {
		return nil, err
	}
	d := &paymentData{Payment: p, Reasons: checkout.Reasons}
	if p.Status == checkout.Succeeded {
		d.Refundable = p.Amount.Minor - p.AmountRefunded
	}
	if p.ReviewID != "" {
		if d.Review, err = riskreview.Get(ctx, s.DB.Pool, v.Merchant.ID, p.ReviewID); err != nil {
			return nil, err
		}
	}
	if d.Refunds, _, err = payments.PaymentRefunds(ctx, s.DB.Pool, v.Merchant.ID, p.ID, 100, ""); err != nil {
		return nil, err
	}
	events, deliveries, err := s.Webhooks.EventsAbout(ctx, s.DB.Pool, v.Merchant.ID, p.ID)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		d.Timeline = append(d.Timeline, timelineEntry{Event: e, Deliveries: deliveries[e.ID]})
	}
	return d, nil
}

// redeliver queues an event of the payment again to every subscribed
// endpoint (webhook.Redeliver, as POST /v1/events/{id}/redeliver does) and
// shows the payment.
func (s *Server) redeliver(c *gin.Context, v *Visit, form url.Values) {
	payID := form.Get("payment")
	if !id.Valid("pay", payID) {
		s.ErrorPage(c, checkout.ErrNotFound)
		return
	}
	evtID := c.Param("id")
	_, _, err := s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		ds, err := s.Webhooks.Redeliver(ctx, tx, v.Merchant.ID, evtID, "")
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, map[string]int{"deliveries": len(ds)}, nil
	})
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/payments/"+payID+"?redelivered="+url.QueryEscape(evtID))
}
